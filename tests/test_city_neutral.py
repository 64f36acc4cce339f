"""Issue 14: a city that is not Barcelona gets nothing of Barcelona's (behaviour level).

The synthetic Italian town of ``tests/test_any_city.py`` (loopback Overpass, Nominatim and a
GHSL-like grid) is built end to end; no output names Barcelona, its CRS or its literature,
and the outputs name the town and work in its UTM zone.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from cwsgeo.cli import main
from tests.test_any_city import RangeServer, town  # noqa: F401  (the fixture)
from tests.test_any_city import pytestmark as _any_city_marks

pytestmark = _any_city_marks  # the same warning filters as the town's own tests

BARCELONA = re.compile(r"barcelona|\bbcn\b|25831|catalu|institut cerd|sagrada", re.I)


def test_town_outputs_name_the_town_and_nothing_of_barcelona(
        town: tuple[Path, RangeServer, float]) -> None:  # noqa: F811
    project, _, _ = town
    assert main(["--quiet", "--config", str(project / "cwsgeo.toml"), "build", "--live"]) == 0
    page = (project / "maps" / "innovation_types.html").read_text(encoding="utf-8")
    assert "Coworking spaces in Testville" in page
    with zipfile.ZipFile(project / "data" / "processed" / "cwsgeo.qgz") as qgz:
        qgs = qgz.read(next(n for n in qgz.namelist() if n.endswith(".qgs"))).decode()
    assert "<authid>EPSG:32632</authid>" in qgs and "coworking spaces in Testville" in qgs
    texts = [p for folder in ("maps", "data/processed") for p in (project / folder).rglob("*")
             if p.suffix in (".html", ".csv", ".json", ".geojson", ".md", ".txt")]
    assert texts
    found = {str(p.relative_to(project)): m.group()
             for p in texts if (m := BARCELONA.search(p.read_text(encoding="utf-8",
                                                                  errors="replace")))}
    assert found == {}
    assert not BARCELONA.search(qgs)


#: "barri" as a word a person reads: not a key ("barris"), a class (cws-label-barri), a column
#: (barri_name), a file (barris.gpkg, spaces_per_km2_barris.png) or a source (=barris).
BARRI_WORD = re.compile(r"(?<![\w\"'./=-])barris?(?![\w\"'./=-])", re.I)


def test_town_pages_and_qgis_project_speak_the_towns_words(
        town: tuple[Path, RangeServer, float]) -> None:  # noqa: F811
    """Issue 14: the town's areas are its municipi and quartieri, never Barcelona's barris."""
    project, _, _ = town
    assert main(["--quiet", "--config", str(project / "cwsgeo.toml"), "build", "--live"]) == 0
    assert BARRI_WORD.search("Barris (outlines)") and BARRI_WORD.search("Count of barris per")
    pages = {p.name: p.read_text(encoding="utf-8") for p in (project / "maps").glob("*.html")}
    assert set(pages) == {"innovation_types.html", "density.html"}
    for page in pages.values():
        assert "Quartieri (outlines)" in page and "Municipi (outlines)" in page
        assert "Names of municipi, quartieri" in page
        assert BARRI_WORD.findall(page) == []
    assert "Count of quartieri per class" in pages["density.html"]
    assert '["barris","Quartieri"]' in pages["density.html"]  # the key stays, the word is theirs
    processed = project / "data" / "processed"
    report = (processed / "inventory_report.md").read_text("utf-8")
    assert "| municipio | account |" in report and BARRI_WORD.findall(report) == []
    findings = (processed / "report.html").read_text("utf-8")  # hot spots skipped: too few
    assert "hotspots › quartieri" in findings and BARRI_WORD.findall(findings) == []
    with zipfile.ZipFile(project / "data" / "processed" / "cwsgeo.qgz") as qgz:
        qgs = qgz.read(next(n for n in qgz.namelist() if n.endswith(".qgs"))).decode()
    names = re.findall(r'name="([^"]*)"', qgs) + re.findall(r"<layername>([^<]*)<", qgs)
    assert "Quartieri: Coworking spaces per km²" in names and "Municipi" in names
    assert [n for n in names if BARRI_WORD.search(n)] == []
    assert "layername=barris" in qgs  # the data keep their names
