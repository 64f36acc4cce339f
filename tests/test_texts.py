"""Listing texts: keys, cleaning, language, readers (CSV/XLSX), join to inventory rows."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cwsgeo import InventoryError, MissingDataError
from cwsgeo.analysis.texts import (
    JOINED_COLUMNS,
    LISTING_COLUMNS,
    clean_text,
    guess_language,
    join_listing_texts,
    listing_key,
    read_listing_texts,
    split_source_ids,
)

EN = ("A friendly coworking space for freelancers and startups, with a community of "
      "makers and our monthly events in the heart of the city.")
ES = ("Un espacio de trabajo para los emprendedores y las empresas, con una comunidad "
      "y eventos para todos los miembros del espacio.")
CA = ("Un espai de treball per als emprenedors i les empreses, amb una comunitat i els "
      "esdeveniments per a tots els membres.")


def _csv(tmp_path: Path) -> Path:
    p = tmp_path / "coworker.csv"
    pd.DataFrame({
        "url": ["https://www.coworker.com/spain/barcelona/alpha/",
                "https://www.coworker.com/spain/barcelona/alpha",
                "https://www.coworker.com/spain/barcelona/empty"],
        "name": ["Alpha", "Alpha", "Empty"],
        "description": [EN + "\nSHOW MORE", EN + "\nSHOW MORE", ""],
    }).to_csv(p, index=False)
    return p


def _xlsx(tmp_path: Path, rows: list[list[object]] | None = None) -> Path:
    p = tmp_path / "spain.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "Link", "Description", "Services_List"])
    for r in rows if rows is not None else [
            ["Beta", "https://coworkingspain.es/espacios/coworking/barcelona/beta", ES,
             "Sala de reuniones; Domiciliación Fiscal"],
            ["Gamma", "https://coworkingspain.es/espacios/coworking/barcelona/gamma", CA, None],
            ["Delta", "https://coworkingspain.es/espacios/coworking/barcelona/delta", "N/A",
             "Recepción"]]:
        ws.append(r)
    wb.save(p)
    return p


def test_listing_key_matches_source_id_tokens() -> None:
    assert listing_key("HTTPS://www.Coworker.com/spain/barcelona/x/?utm=1#top") == \
        "coworker.com/spain/barcelona/x"
    assert listing_key("coworker.com/spain/barcelona/x") == "coworker.com/spain/barcelona/x"
    assert listing_key(None) == "" and listing_key(float("nan")) == ""
    assert split_source_ids("a.com/x; https://a.com/x/ ;BarcelonaPlaces.csv:row14;;") == \
        ["a.com/x", "barcelonaplaces.csv:row14"]


def test_clean_text_html_controls_whitespace_and_cap() -> None:
    raw = ("<script>alert(1)</script><p>Caf&eacute;&nbsp;&amp;amp; <b>community</b></p>"
           "\x00\x07  events&lt;img src=x onerror=alert(1)&gt;\r\n\r\n\r\n\tend")
    out = clean_text(raw)
    assert "alert(1)" not in out.text.split("<img")[0]
    assert out.text.startswith("Café & community")
    assert "\x00" not in out.text and "\x07" not in out.text and "\r" not in out.text
    assert "<img src=x onerror=alert(1)>" in out.text  # an escaped tag stays visible text
    assert "\n\n\n" not in out.text and not out.truncated
    long = clean_text("word " * 10_000, cap=1000)
    assert long.truncated and len(long.text) <= 1000 and long.original_chars == 49_999
    assert clean_text("N/A").text == "" and clean_text(None).text == ""


def test_guess_language() -> None:
    assert guess_language(EN) == "en"
    assert guess_language(ES) == "es"
    assert guess_language(CA) == "ca"
    assert guess_language("Coworking 22@", default="es") == "es"
    assert guess_language("") is None


def test_read_listing_texts_csv_and_xlsx(tmp_path: Path) -> None:
    frame = read_listing_texts([_csv(tmp_path), _xlsx(tmp_path)])
    assert tuple(frame.columns) == LISTING_COLUMNS
    assert frame["key"].tolist() == [
        "coworker.com/spain/barcelona/alpha",
        "coworkingspain.es/espacios/coworking/barcelona/beta",
        "coworkingspain.es/espacios/coworking/barcelona/gamma",
        "coworkingspain.es/espacios/coworking/barcelona/delta"]
    assert frame["language"].tolist()[:3] == ["en", "es", "ca"]
    assert pd.isna(frame["language"].iloc[3])  # services only: no text, no language
    assert not frame["text"].iloc[0].endswith("SHOW MORE")
    assert frame["services"].iloc[1] == "Sala de reuniones; Domiciliación Fiscal"
    assert frame["row"].tolist() == [2, 2, 3, 4]
    assert frame["file"].tolist() == ["coworker.csv", "spain.xlsx", "spain.xlsx", "spain.xlsx"]


def test_bad_listing_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match=r"nope\.csv"):
        read_listing_texts([tmp_path / "nope.csv"])
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InventoryError, match=r"broken\.xlsx"):
        read_listing_texts([bad])
    noheader = tmp_path / "noheader.csv"
    noheader.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InventoryError, match=r"noheader\.csv.*URL column"):
        read_listing_texts([noheader])
    latin = tmp_path / "latin.csv"
    latin.write_bytes("url,description\nx.com/a,caf\xe9\n".encode("latin-1"))
    with pytest.raises(InventoryError, match=r"latin\.csv"):
        read_listing_texts([latin])


def test_join_by_source_id_tokens_and_own_columns(tmp_path: Path) -> None:
    listings = read_listing_texts([_csv(tmp_path), _xlsx(tmp_path)])
    inv = pd.DataFrame({
        "id": ["s1", "s2", "s3", "s4"],
        "name": ["Alpha", "Beta", "Nothing", "Own"],
        "source_id": ["coworker.com/spain/barcelona/alpha;"
                      "coworkingspain.es/espacios/coworking/barcelona/beta",
                      "coworkingspain.es/espacios/coworking/barcelona/gamma",
                      "BarcelonaPlaces.csv:row3", ""],
        "Descripción": ["", "", "", ES],
        "Serveis": ["", "", "", "Oficina virtual"],
    })
    out = join_listing_texts(inv, listings)
    assert tuple(out.columns) == JOINED_COLUMNS and out.index.tolist() == ["s1", "s2", "s3", "s4"]
    assert out.loc["s1", "text_en"].startswith("A friendly")
    assert out.loc["s1", "text_es"] == ES and out.loc["s1", "n_texts"] == 2
    assert out.loc["s1", "services"] == "Sala de reuniones; Domiciliación Fiscal"
    assert out.loc["s2", "text_ca"] == CA and pd.isna(out.loc["s2", "text_en"])
    assert out.loc["s3", "n_texts"] == 0 and pd.isna(out.loc["s3", "text"])
    assert out.loc["s4", "text_es"] == ES and out.loc["s4", "services"] == "Oficina virtual"
    assert out.loc["s4", "text_keys"] == "inventory:Descripción;inventory:Serveis"


def test_join_records_cut_texts(tmp_path: Path) -> None:
    listings = read_listing_texts([_csv(tmp_path)], cap=50)
    inv = pd.DataFrame({"id": ["s1"], "source_id": ["coworker.com/spain/barcelona/alpha"]})
    out = join_listing_texts(inv, listings)
    assert len(out.loc["s1", "text"]) <= 50
    assert "cut from" in out.loc["s1", "text_notes"]
