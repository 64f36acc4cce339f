"""Printing the report's PDF: one Chromium process first, the usual browser if that fails."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cwsgeo import CwsgeoError
from cwsgeo.outputs.report_page import print_pdf

# a stand-in for Chromium: logs its flags, prints unless told to fail in the given mode
_FAKE = """#!/bin/sh
echo "$*" >> "{log}"
case "$*" in *{fail}*) echo "crashed" >&2; exit 9;; esac
for arg in "$@"; do
  case "$arg" in --print-to-pdf=*) printf '%%PDF-1.4' > "${{arg#--print-to-pdf=}}";; esac
done
"""


def _browser(tmp_path: Path, fail: str) -> Path:
    exe = tmp_path / "chromium"
    exe.write_text(_FAKE.format(log=tmp_path / "calls.log", fail=fail))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def _calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls.log").read_text().splitlines()


def test_one_process_prints(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text("<p>hi</p>")
    exe = _browser(tmp_path, fail="--never")
    out = print_pdf(page, tmp_path / "report.pdf", browser=str(exe))
    assert out.read_bytes() == b"%PDF-1.4"
    assert len(_calls(tmp_path)) == 1 and "--single-process" in _calls(tmp_path)[0]


def test_the_usual_browser_prints_when_one_process_fails(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text("<p>hi</p>")
    exe = _browser(tmp_path, fail="--single-process")
    out = print_pdf(page, tmp_path / "report.pdf", browser=str(exe))
    assert out.read_bytes() == b"%PDF-1.4"
    calls = _calls(tmp_path)
    assert len(calls) == 2 and "--single-process" not in calls[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.log", "chromium",
                                                           "report.html", "report.pdf"]


def test_both_failing_raise_and_leave_nothing(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text("<p>hi</p>")
    exe = _browser(tmp_path, fail="--headless")
    with pytest.raises(CwsgeoError, match=r"exit 9\): crashed"):
        print_pdf(page, tmp_path / "report.pdf", browser=str(exe))
    assert len(_calls(tmp_path)) == 2
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".pdf"]
