"""The command line: exit codes, messages without tracebacks, nothing written on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cwsgeo.cli import main
from tests.test_pipeline import write_config


def test_version_via_module() -> None:
    out = subprocess.run([sys.executable, "-m", "cwsgeo", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("cwsgeo ")


def test_check_good_and_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.csv"
    good.write_text("id;nombre;dirección;tipo\n1;Espai A;Carrer del Bruc 149;muy innovadora\n",
                    encoding="cp1252")
    assert main(["check", str(good)]) == 0
    assert "1 usable, 0 errors" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,lat,lon\na,A,41.39,2.17\na,B,91,2.17\n")
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "bad.csv, row 3, column 'id'" in out and "duplicate_id" in out
    assert "column 'lat'" in out and "Traceback" not in out


def test_bad_config_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cwsgeo.toml"
    cfg.write_text("[data]\nsorce = 'live'\n")
    assert main(["--config", str(cfg), "fetch"]) == 2
    assert "unknown key" in capsys.readouterr().err


def test_missing_mirror_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cwsgeo.toml"
    cfg.write_text(f"[data]\nmirror = '{tmp_path / 'nowhere'}'\n")
    assert main(["--quiet", "--config", str(cfg), "build"]) == 3
    err = capsys.readouterr().err
    assert "data mirror not found" in err and "Traceback" not in err


@pytest.mark.bundle
@pytest.mark.slow
def test_bad_inventory_writes_nothing(bundle_dir: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, bundle_dir)
    assert main(["--quiet", "--config", str(config), "build"]) == 0
    outputs = sorted((tmp_path / "out").rglob("*.*"))
    before = {p: p.read_bytes() for p in outputs}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,address,innovation_type\n1,A,Carrer del Bruc 149,7\n")
    assert main(["--quiet", "--config", str(config), "build", "--inventory", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.csv, row 2, column 'innovation_type'" in err and "Traceback" not in err
    assert sorted((tmp_path / "out").rglob("*.*")) == outputs
    assert all(p.read_bytes() == data for p, data in before.items())
    assert bad.read_text() == "id,name,address,innovation_type\n1,A,Carrer del Bruc 149,7\n"


@pytest.mark.bundle
def test_geocode_command(bundle_dir: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, bundle_dir)
    src = tmp_path / "in.csv"
    src.write_text("id,name,address\n1,A,\"Calle Valencia 264\"\n2,B,Nowhere street 1\n")
    out = tmp_path / "geo.csv"
    assert main(["--quiet", "--config", str(config), "geocode", str(src), "-o", str(out)]) == 0
    text = out.read_text()
    assert "exact" in text and "unmatched" in text


def test_geocode_refuses_to_overwrite_the_inventory(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,name,address\n1,A,Carrer del Bruc 149\n")
    assert main(["--quiet", "geocode", str(src), "-o", str(src)]) == 2
    assert "inventory itself" in capsys.readouterr().err
    assert src.read_text() == "id,name,address\n1,A,Carrer del Bruc 149\n"


def test_internal_errors_have_no_traceback(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    import cwsgeo.analysis.inventory

    def boom(*args: object, **kwargs: object) -> None:
        raise AttributeError("simulated bug")

    monkeypatch.setattr(cwsgeo.analysis.inventory, "check_inventory", boom)
    src = tmp_path / "in.csv"
    src.write_text("id,name\n1,A\n")
    assert main(["check", str(src)]) == 70
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err


def test_unwritable_output_is_a_clear_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from cwsgeo._io import write_text

    (tmp_path / "out.csv").mkdir()
    with pytest.raises(OSError):
        write_text(tmp_path / "out.csv", "x")
