"""`cwsgeo batch`: cities.toml, the per-city task graphs on dask.distributed, the comparison.

The batches run small Barcelona projects (three spaces, no findings) on the mirror; their
caches are warmed once in this process, so each build in a worker takes seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest

from cwsgeo import ConfigError
from cwsgeo.build.batch import Batch, BatchResult, init_city, run_batch, swap_outputs
from cwsgeo.cli import main
from cwsgeo.outputs.comparison import city_summary, comparison_html, comparison_table
from tests import test_any_city

town = test_any_city.town  # the loopback town (a fixture), fetched live in a worker below

SPACES = ('id,name,address,innovation_type\na,Espai A,"Carrer de Bailèn, 105",1\n'
          "b,Espai B,Passeig de Gràcia 17,2\nc,Espai C,Carrer del Bruc 149,\n")


def write_project(folder: Path, mirror: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cwsgeo.toml").write_text(
        f'[data]\nmirror = "{mirror.as_posix()}"\nraw = "raw"\ncache = "cache"\n'
        '[inventory]\npath = "spaces.csv"\n[statistics]\nenabled = false\n', encoding="utf-8")
    (folder / "spaces.csv").write_text(SPACES, encoding="utf-8")
    return folder


def write_cities(folder: Path, *entries: str, out: str = "cities") -> Path:
    path = folder / "cities.toml"
    path.write_text(f'[batch]\nout = "{out}"\nretries = 1\n\n'
                    + "\n".join(f"[[city]]\n{e}\n" for e in entries), encoding="utf-8")
    return path


# -- cities.toml ----------------------------------------------------------------------------

@pytest.mark.parametrize(("entries", "message"), [
    (['slug = "a"\nproject = "p"', 'slug = "a"\nproject = "q"'], r"#2: duplicate slug 'a'"),
    (['slug = "a"'], r"#1 \(slug 'a'\): give either project .* not neither"),
    (['slug = "a"\nproject = "p"\nplace = "X"'], r"#1 \(slug 'a'\): .* not both"),
    (['slug = "a"\nproject = "p"\nplaec = "X"'], r"#1 \(slug 'a'\): unknown key 'plaec'"),
    (['slug = "A b"\nproject = "p"'], r"#1 \(slug 'A b'\): slug must be"),
    (['slug = "a"\nproject = "p"\nlive = "yes"'], r"live must be a bool"),
    (['slug = "a"\nproject = "p"\nprofile = "x.toml"'], r"profile is for new cities"),
    (['slug = "a"\nproject = "p"', 'slug = "b"\nproject = "p"'], r"#2 .*also city 'a'"),
    (['slug = "a"\nproject = "nowhere"'], r"no cwsgeo.toml in project folder"),
    (['slug = "a"\nproject = "p"\ninventory = "gone.csv"'], r"inventory file not found: .*gone"),
    (['slug = "a"\nplace = "X"\nprofile = "gone.toml"'],
     r"profile file not found: .*gone.toml \(nor a built-in profile\)"),
])
def test_bad_entries_are_named(tmp_path: Path, entries: list[str], message: str) -> None:
    for name in ("p", "q"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "cwsgeo.toml").write_text("")
    path = write_cities(tmp_path, *entries)
    with pytest.raises(ConfigError, match=message) as info:
        Batch.load(path)
    assert str(path) in str(info.value)


def test_cities_toml_paths_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "cwsgeo.toml").write_text("")
    for name in ("inv.csv", "m.toml"):
        (tmp_path / name).write_text("")
    path = write_cities(tmp_path, 'slug = "bcn"\nproject = "p"\ninventory = "inv.csv"',
                        'slug = "milano"\nplace = "Milano, Italia"\nprofile = "m.toml"',
                        out="runs/cities")
    batch = Batch.load(path.parent)
    assert batch.out == tmp_path / "runs" / "cities" and batch.retries == 1
    bcn, milano = batch.cities
    assert bcn.project == tmp_path / "p" and bcn.inventory == tmp_path / "inv.csv"
    assert bcn.name == "" and bcn.live is None  # the summary takes the profile's name
    assert milano.project == batch.out / "milano" and milano.name == "Milano"
    assert milano.profile == tmp_path / "m.toml"


def test_settings_for_every_task(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "cwsgeo.toml").write_text("")
    path = write_cities(tmp_path, 'slug = "a"\nproject = "p"')
    rest = path.read_text()
    path.write_text('[settings]\noverpass_url = "http://127.0.0.1:9/api"\nhttp_timeout_s = 5\n'
                    + rest)
    city = Batch.load(path).cities[0]
    assert city.settings == (("http_timeout_s", 5.0), ("overpass_url", "http://127.0.0.1:9/api"))
    for bad, message in (("overpas_url = 'x'", "unknown key 'overpas_url'"),
                         ("http_retries = '2'", "http_retries must be a int"),
                         ("crs_work = 'EPSG:3035'", "unknown key 'crs_work'")):
        path.write_text(f"[settings]\n{bad}\n" + rest)
        with pytest.raises(ConfigError, match=message):
            Batch.load(path)


def test_bad_batch_file_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_cities(tmp_path, 'slug = "a"')
    assert main(["batch", str(path)]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "cities.toml" in err and "Traceback" not in err


# -- the comparison -------------------------------------------------------------------------

def test_city_summary_numbers() -> None:
    spaces = pd.DataFrame({
        "location_precision": ["exact", "approximate", "area", "exact", "exact"],
        "in_city": ["True", "True", "True", "False", "True"],
        "proximity_method": ["network", "straight_line", None, "network", None],
        "metro_walk_min": [4.0, 9.0, None, 1.0, None],
        "bus_walk_min": [1.0, 1.0, None, 1.0, None],
        "rail_walk_min": [None, 4.5, None, None, None],
    })
    coverage = pd.DataFrame({"group": ["all", "all", "type 1"], "minutes": [10, 15, 10],
                             "share": [0.25, 0.5, 0.1], "residents_total": [40_000.0] * 3})
    stats = {"agglomeration": {"spaces": {"verdict": "localized"}}}
    areas = gpd.GeoDataFrame(geometry=gpd.points_from_xy([2.1, 2.2], [41.4, 41.4]).buffer(0.01),
                             crs="EPSG:4326")
    got = city_summary(spaces, coverage=coverage, statistics=stats, areas=areas)
    # located in the city: rows 0, 1, 4; with walking values: 0, 1 (both near rail)
    assert got["spaces_located"] == 3 and got["spaces_listed"] == 5
    assert got["spaces_per_10k"] == pytest.approx(3 / 40_000 * 1e4)
    assert got["rail_5min_share"] == 1.0 and got["residents_10min_share"] == 0.25
    assert got["kd_verdict"] == "localized" and got["population"] == 40_000
    skipped = {"agglomeration": {"reference": "places", "skipped":
                                 "too few spaces for Kd: 3 < 10", "n": 3}}  # as the build writes
    assert city_summary(spaces, coverage=coverage, statistics=skipped, areas=areas)[
        "kd_verdict"] == "not tested: too few spaces for Kd: 3 < 10"
    assert city_summary(spaces, coverage=coverage, areas=areas)["kd_verdict"] == ""
    assert got["lon"] == pytest.approx(2.15, abs=1e-3)
    bus_only = spaces.assign(metro_walk_min=9.0, rail_walk_min=None)
    assert city_summary(bus_only)["rail_5min_share"] == 0.0
    # a city's own rail modes (its profile's): Barcelona's Rodalies
    own = spaces.assign(metro_walk_min=9.0).rename(columns={"rail_walk_min": "rodalies_walk_min"})
    assert city_summary(own)["rail_5min_share"] == 0.0
    assert city_summary(own, rail_modes=("metro", "rodalies"))["rail_5min_share"] == 0.5
    assert pd.isna(city_summary(spaces)["population"])


def test_comparison_page_escapes_names() -> None:
    table = comparison_table([
        {"slug": "x", "name": "<script>alert(1)</script>", "status": "ok",
         "population": 1000.0, "lon": 2.0, "lat": 41.0},
        {"slug": "y", "name": "Y & Z", "status": "failed", "error": "fetch: <b>500</b>"}])
    assert table.crs.to_epsg() == 4326 and table.geometry.iloc[1] is None
    page = comparison_html(table.drop(columns="geometry"))
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "Y &amp; Z" in page and "&lt;b&gt;500" in page and "1 failed" in page
    assert '<a href="x/maps/innovation_types.html">&lt;script&gt;' in page  # built: linked
    assert 'href="y/' not in page  # failed: no map to link


def test_swap_keeps_other_files(tmp_path: Path) -> None:
    target, staging = tmp_path / "city", tmp_path / ".city.staging"
    for folder, text in ((target, "old"), (staging, "new")):
        (folder / "data" / "processed").mkdir(parents=True)
        (folder / "maps").mkdir()
        (folder / "data" / "processed" / "t.csv").write_text(text)
        (folder / "maps" / "m.html").write_text(text)
    (target / "cwsgeo.toml").write_text("[data]\n")
    (target / "data" / "raw").mkdir()
    swap_outputs(staging, target)
    assert (target / "data" / "processed" / "t.csv").read_text() == "new"
    assert (target / "maps" / "m.html").read_text() == "new"
    assert (target / "cwsgeo.toml").exists() and (target / "data" / "raw").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".city.staging", "city"]


def test_place_entry_makes_its_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``place`` entry: the worker's task runs ``init_project`` once, then keeps it."""
    from cwsgeo.build import project
    calls: list[tuple[Path, dict[str, Any]]] = []

    def fake(folder: Path, **kwargs: Any) -> Path:
        calls.append((Path(folder), kwargs))
        Path(folder).mkdir(parents=True)
        (Path(folder) / "cwsgeo.toml").write_text("")
        return Path(folder)

    monkeypatch.setattr(project, "init_project", fake)
    (tmp_path / "m.csv").write_text("id,name\n")
    path = write_cities(tmp_path, 'slug = "milano"\nplace = "Milano, Italia"\n'
                        'inventory = "m.csv"')
    city = Batch.load(path).cities[0]
    assert init_city(city) == str(tmp_path / "cities" / "milano")
    assert calls == [(tmp_path / "cities" / "milano",
                      {"place": "Milano, Italia", "profile": None,
                       "inventory": tmp_path / "m.csv", "live": True})]
    init_city(city)  # the project exists: kept as it is
    assert len(calls) == 1


# -- batches on a LocalCluster -------------------------------------------------------------

@pytest.fixture(scope="module")
def projects(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small projects with warm caches (built once here; copies share nothing)."""
    from cwsgeo.build.config import Config
    from cwsgeo.build.pipeline import build

    root = tmp_path_factory.mktemp("batch")
    alpha = write_project(root / "alpha", bundle_dir)
    build(Config.load(alpha), out=root / "scratch")
    shutil.copytree(alpha, root / "beta")
    return root


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from distributed import Client

    from cwsgeo.build.batch import local_cluster

    with local_cluster(2) as cl, Client(cl) as client:
        yield cl, client


def _outputs_of(out: Path, slug: str) -> None:
    processed = out / slug / "data" / "processed"
    assert pd.read_csv(processed / "coworking_spaces.csv")["id"].tolist() == ["a", "b", "c"]
    assert (out / slug / "maps" / "innovation_types.html").stat().st_size > 0


@pytest.mark.bundle
@pytest.mark.slow
def test_two_cities_on_a_local_cluster(projects: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = write_cities(tmp_path, f'slug = "alpha"\nproject = "{projects / "alpha"}"',
                        f'slug = "beta"\nname = "Béta <i>"\nproject = "{projects / "beta"}"')
    assert main(["batch", str(path), "--workers", "2"]) == 0
    out = tmp_path / "cities"
    _outputs_of(out, "alpha")
    _outputs_of(out, "beta")
    table = pd.read_csv(out / "comparison.csv")
    assert table["slug"].tolist() == ["alpha", "beta"] and set(table["status"]) == {"ok"}
    assert (table["spaces_located"] == 3).all() and (table["population"] > 1.6e6).all()
    assert table["build_s"].gt(0).all() and table["peak_mib"].gt(100).all()
    geo = gpd.read_parquet(out / "comparison.parquet")
    assert geo.crs.to_epsg() == 4326
    assert geo.geometry.x.between(2.05, 2.23).all() and geo.geometry.y.between(41.31, 41.47).all()
    assert "Béta &lt;i&gt;" in (out / "comparison.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == [
        "alpha", "beta", "comparison.csv", "comparison.html", "comparison.parquet"]
    assert "2 of 2 cities built" in capsys.readouterr().out


@pytest.mark.bundle
@pytest.mark.slow
def test_a_failing_city_is_named_and_the_others_finish(
        projects: Path, tmp_path: Path, cluster: Any, bundle_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    broken = write_project(tmp_path / "broken", tmp_path / "no-mirror")
    previous = tmp_path / "cities" / "broken" / "data" / "processed" / "districts.csv"
    previous.parent.mkdir(parents=True)
    previous.write_text("kept\n")
    path = write_cities(tmp_path, f'slug = "alpha"\nproject = "{projects / "alpha"}"',
                        f'slug = "broken"\nproject = "{broken}"')
    code = main(["batch", str(path), "--scheduler", cluster[0].scheduler_address])
    err = capsys.readouterr().err
    assert code == 6
    assert "city broken failed: fetch: MissingDataError" in err and "data mirror" in err
    assert "1 of 2 cities failed: broken" in err and "Traceback" not in err
    _outputs_of(tmp_path / "cities", "alpha")
    assert previous.read_text() == "kept\n"  # the failed city's previous outputs stay
    table = pd.read_csv(tmp_path / "cities" / "comparison.csv")
    assert table.set_index("slug")["status"].to_dict() == {"alpha": "ok", "broken": "failed"}
    assert not list((tmp_path / "cities").glob(".*"))


@pytest.mark.bundle
@pytest.mark.slow
def test_a_killed_worker_does_not_stop_the_batch(projects: Path, tmp_path: Path,
                                                 cluster: Any) -> None:
    _, client = cluster
    path = write_cities(tmp_path, f'slug = "alpha"\nproject = "{projects / "alpha"}"',
                        f'slug = "beta"\nproject = "{projects / "beta"}"')
    done: list[BatchResult] = []
    runner = threading.Thread(target=lambda: done.append(run_batch(Batch.load(path),
                                                                   client=client)))
    runner.start()
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any(str(k).startswith("build-alpha-") for k in keys):
                victim = worker
        time.sleep(0.1)
    assert victim is not None, "the build of alpha never started"
    time.sleep(1.0)  # well inside the build
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    runner.join(timeout=300)
    assert done, "the batch did not finish"
    result = done[0]
    assert result.failed == {}
    assert result.table["status"].tolist() == ["ok", "ok"]
    _outputs_of(tmp_path / "cities", "alpha")
    _outputs_of(tmp_path / "cities", "beta")
    assert not list((tmp_path / "cities").glob(".*"))  # the killed build's staging is gone


# -- a live city on the loopback server, with Barcelona on the mirror ------------------------

def _live_settings(url: str, **more: object) -> str:
    values = {"nominatim_url": f"{url}/", "overpass_url": f"{url}/api",
              "http_timeout_s": 5, **more}
    return "[settings]\n" + "".join(
        f"{k} = {v!r}\n".replace("'", '"') for k, v in values.items())


@test_any_city.pytestmark  # its GeoTIFF writer's warning
@pytest.mark.bundle
@pytest.mark.slow
def test_a_live_town_and_barcelona(town: tuple[Path, Any, float], canned_server: Any,
                                   projects: Path, tmp_path: Path, cluster: Any) -> None:
    """The loopback town (tests/test_any_city.py) fetched live in a worker, beside Barcelona."""
    project, _, inside = town
    path = write_cities(tmp_path, f'slug = "alpha"\nproject = "{projects / "alpha"}"',
                        f'slug = "testville"\nproject = "{project}"\nlive = true')
    path.write_text(_live_settings(canned_server.url) + path.read_text(), encoding="utf-8")
    assert main(["-q", "batch", str(path), "--scheduler", cluster[0].scheduler_address]) == 0
    out = tmp_path / "cities"
    _outputs_of(out, "alpha")
    town_spaces = pd.read_csv(out / "testville" / "data" / "processed" / "coworking_spaces.csv")
    assert town_spaces["id"].tolist() == ["a", "b", "c"]
    geo = gpd.read_parquet(out / "comparison.parquet").set_index("slug")
    assert geo.loc["testville", "name"] == "Testville"  # the project's profile
    assert geo.loc["testville", "population"] == pytest.approx(inside)
    assert geo.loc["testville", "spaces_located"] == 3
    point = geo.loc["testville", "geometry"]
    assert 9.17 < point.x < 9.21 and 45.44 < point.y < 45.48  # EPSG:4326, not UTM 32N
    assert any("/api/interpreter" in r.path for r in canned_server.requests)


@test_any_city.pytestmark
@pytest.mark.bundle
@pytest.mark.slow
def test_a_live_source_answering_500_fails_its_city_only(
        town: tuple[Path, Any, float], canned_server: Any, projects: Path, tmp_path: Path,
        cluster: Any, capsys: pytest.CaptureFixture[str]) -> None:
    project, _, _ = town
    canned_server.clear()
    canned_server.add("POST", "/api/interpreter", status=500, body="down")
    canned_server.add("GET", "/search", status=500, body="down")
    path = write_cities(tmp_path, f'slug = "alpha"\nproject = "{projects / "alpha"}"',
                        f'slug = "testville"\nproject = "{project}"\nlive = true')
    path.write_text(_live_settings(canned_server.url, http_retries=0) + path.read_text(),
                    encoding="utf-8")
    assert main(["batch", str(path), "--scheduler", cluster[0].scheduler_address]) == 6
    err = capsys.readouterr().err
    assert "city testville failed: fetch: DataSourceError" in err and "500" in err
    assert "1 of 2 cities failed: testville" in err
    _outputs_of(tmp_path / "cities", "alpha")
    assert not (tmp_path / "cities" / "testville").exists()
    # dask retried the fetch once ([batch] retries = 1): two rounds of requests
    assert len(canned_server.requests) >= 2


@test_any_city.pytestmark
@pytest.mark.slow
def test_a_new_city_from_its_place(town: tuple[Path, Any, float], canned_server: Any,
                                   tmp_path: Path, cluster: Any) -> None:
    """A ``place`` entry: `cwsgeo init`'s project made in the worker, then fetched live."""
    made, _, inside = town  # its city.toml: the grid on the loopback host
    inventory = tmp_path / "spaces.csv"  # points only: init's project geocodes offline
    inventory.write_text("id,name,lat,lon,innovation_type\na,Spazio A,45.4597,9.1902,3\n"
                         "c,Spazio C,45.4630,9.1950,1\n", encoding="utf-8")
    path = write_cities(tmp_path, 'slug = "testville"\nplace = "Testville, Italia"\n'
                        f'profile = "{made / "city.toml"}"\ninventory = "spaces.csv"')
    path.write_text(_live_settings(canned_server.url) + path.read_text(), encoding="utf-8")
    assert main(["-q", "batch", str(path), "--scheduler", cluster[0].scheduler_address]) == 0
    project = tmp_path / "cities" / "testville"
    assert (project / "cwsgeo.toml").is_file() and (project / "city.toml").is_file()
    assert (project / "maps" / "innovation_types.html").stat().st_size > 0
    row = pd.read_csv(tmp_path / "cities" / "comparison.csv").iloc[0]
    assert row["name"] == "Testville" and row["population"] == pytest.approx(inside)
