"""Colloquial names of Barcelona's barris and districts, and municipalities outside the city.

The official names come from the admin layers (:func:`cwsgeo.load_admin`); this module adds
the names people write in listings ("Poblenou", "22@", "el Born", "Gothic Quarter",
"Ensanche") and the neighbouring municipalities whose mention means a space is *not* in
Barcelona. Keys are written as people write them; the text locator folds them like any text
(:func:`cwsgeo.analysis.geocoding.named_places.canonical_key`).
"""

from __future__ import annotations

__all__ = ["AREA_ALIASES", "OUTSIDE_PLACES"]

#: Colloquial area name -> area codes: ``"B<barri code>"`` or ``"D<district code>"`` (codes
#: of the Ajuntament's admin layers). An alias naming several barris stands for their union.
#: Aliases win over official names with the same key ("Gràcia" is the Vila de Gràcia barri,
#: not the district).
AREA_ALIASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Poblenou", ("B68", "B66")),
    ("Poble Nou", ("B68", "B66")),
    ("22@", ("B66",)),
    ("22 arroba", ("B66",)),
    ("distrito 22", ("B66",)),
    ("districte 22", ("B66",)),
    ("Llacuna", ("B66",)),
    ("Born", ("B04",)),
    ("El Born", ("B04",)),
    ("la Ribera", ("B04",)),
    ("Santa Caterina", ("B04",)),
    ("Gòtic", ("B02",)),
    ("Gótico", ("B02",)),
    ("Barrio Gótico", ("B02",)),
    ("Gothic Quarter", ("B02",)),
    ("Gothic", ("B02",)),
    ("Raval", ("B01",)),
    ("Sant Antoni", ("B10",)),
    ("San Antonio", ("B10",)),
    ("Gràcia", ("B31",)),
    ("Vila de Gràcia", ("B31",)),
    ("Gracia Nova", ("B32",)),
    ("Eixample", ("D02",)),
    ("Ensanche", ("D02",)),
    ("Dreta de l'Eixample", ("B07",)),
    ("Eixample Dret", ("B07",)),
    ("Derecha del Ensanche", ("B07",)),
    ("Esquerra de l'Eixample", ("B08", "B09")),
    ("Eixample Esquerra", ("B08", "B09")),
    ("Izquierda del Ensanche", ("B08", "B09")),
    ("Poble-sec", ("B11",)),
    ("Poblesec", ("B11",)),
    ("Pueblo Seco", ("B11",)),
    ("Sants", ("B18",)),
    ("Sarrià", ("B23",)),
    ("Sant Gervasi", ("B25", "B26")),
    ("San Gervasio", ("B25", "B26")),
    ("Galvany", ("B26",)),
    ("Bonanova", ("B25",)),
    ("Putxet", ("B27",)),
    ("Barceloneta", ("B03",)),
    ("Vila Olímpica", ("B67",)),
    ("Villa Olímpica", ("B67",)),
    ("Olympic Village", ("B67",)),
    ("Diagonal Mar", ("B69",)),
    ("Fort Pienc", ("B05",)),
    ("Sagrera", ("B61",)),
    ("Clot", ("B65",)),
    ("Guinardó", ("B35",)),
    ("Horta", ("B43",)),
    ("Carmel", ("B37",)),
    ("Vallcarca", ("B28",)),
    ("Les Corts", ("B19",)),
    ("Zona Franca", ("B12",)),
    ("Ciutat Vella", ("D01",)),
    ("Old Town", ("D01",)),
    ("Casco Antiguo", ("D01",)),
    ("Sant Martí", ("D10",)),
    ("Sant Andreu", ("B60",)),
    ("Nou Barris", ("D08",)),
)

#: Municipalities around Barcelona (as written in listings). A space said to be *in* one of
#: them is flagged ``outside_city`` and never placed inside the city.
OUTSIDE_PLACES: tuple[str, ...] = (
    "Sant Cugat", "Sant Cugat del Vallès", "San Cugat", "L'Hospitalet", "Hospitalet",
    "L'Hospitalet de Llobregat", "El Prat", "El Prat de Llobregat", "Prat de Llobregat",
    "Badalona", "Cornellà", "Cornella", "Esplugues", "Sant Joan Despí", "Castelldefels",
    "Sabadell", "Terrassa", "Sant Adrià", "Sant Adrià de Besòs", "Santa Coloma de Gramenet",
    "Mataró", "Gavà", "Viladecans", "Sant Boi", "Sant Boi de Llobregat", "Cerdanyola",
    "Rubí", "Molins de Rei", "Sitges", "Granollers", "Montcada", "Sant Just Desvern",
    "Mas Blau", "Ripollet", "Badia del Vallès", "Sant Feliu de Llobregat", "Mollet",
    "Vilanova i la Geltrú", "Martorell",
)
