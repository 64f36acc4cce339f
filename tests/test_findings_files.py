"""The findings' files: written by a forked child or in this process, the same bytes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from cwsgeo.build.statistics import Findings, write_findings
from tests.test_small_statistics import make_spaces, run, town  # noqa: F401 (fixture)


def _write(findings: Findings, folder: Path, place: SimpleNamespace, report: bool
           ) -> dict[str, Path]:
    return write_findings(findings, folder, admin=place.admin, sources=["test"],
                          report=report, pdf=False, city="Testville")


def test_forked_and_in_process_writers_agree(town: SimpleNamespace,  # noqa: F811
                                             tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    findings = run(town, make_spaces(30))
    forked = _write(findings, tmp_path / "forked", town, report=True)
    monkeypatch.setenv("CWSGEO_NO_FORK", "1")
    here = _write(findings, tmp_path / "here", town, report=True)
    assert list(forked) == list(here)  # the same outputs in the same order
    keys = list(forked)
    assert keys[0] == "statistics_json" and keys[-1] == "report_html"
    kinds = [k.split("_")[0] for k in keys[1:-1]]
    assert kinds == sorted(kinds, key=["curve", "table", "figure"].index)
    assert any(k.startswith("figure_kd") for k in keys)
    for key, path in forked.items():
        assert path.read_bytes() == here[key].read_bytes(), key


def test_no_report_writes_the_files_only(town: SimpleNamespace,  # noqa: F811
                                         tmp_path: Path) -> None:
    out = _write(run(town, make_spaces(30)), tmp_path, town, report=False)
    assert "report_html" not in out and not (tmp_path / "report.html").exists()
    figures = [p for k, p in out.items() if k.startswith("figure_")]
    assert figures and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in figures)
