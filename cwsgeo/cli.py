"""The ``cwsgeo`` command: argument parsing, logging, progress bars and exit codes.

Subcommands: ``check`` (inventory QA), ``geocode`` (write a geocoded table), ``fetch`` (fill
``data/raw/``), ``build`` (the whole pipeline), ``watch`` (rebuild when the inventory
changes; ``--serve`` also serves the maps on 127.0.0.1 and reloads them after each rebuild).
Library modules never print or configure logging; this one does. Every
:class:`~cwsgeo.CwsgeoError` becomes a readable message and a non-zero exit code, never a
traceback.

Exit codes: 0 success, 1 invalid inventory, 2 bad usage or config, 3 missing data,
4 a live source failed, 5 other error (including files that cannot be read or written),
70 internal error (a bug; ``-vv`` shows the traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from ._errors import (
    ConfigError,
    CwsgeoError,
    DataSourceError,
    InventoryError,
    MissingDataError,
)
from .build.config import Config

logger = logging.getLogger("cwsgeo")

EXIT_OK, EXIT_INVENTORY, EXIT_USAGE, EXIT_MISSING, EXIT_SOURCE, EXIT_OTHER = 0, 1, 2, 3, 4, 5
EXIT_INTERNAL = 70


def _mapping(values: Sequence[str] | None) -> dict[str, str]:
    out = {}
    for item in values or []:
        if "=" not in item:
            raise ConfigError(f"--column expects HEADER=NAME, got {item!r}")
        src, dst = item.split("=", 1)
        out[src.strip()] = dst.strip()
    return out


EXIT_CODES_HELP = """exit codes:
  0    success
  1    invalid inventory (nothing written; `cwsgeo check` prints the QA report)
  2    bad usage or configuration
  3    missing data (run `cwsgeo fetch`, or check [data] mirror)
  4    a live source failed (previous outputs kept)
  5    other error, including files that cannot be read or written
  70   internal error (a bug: -vv shows the traceback)
  130  interrupted

the inventory you edit is [inventory] path of cwsgeo.toml (default
inventory/coworking_spaces.csv, created once from the bundle's list by `cwsgeo fetch` or the
first build, never overwritten)."""


def _inventory_options(sp: argparse.ArgumentParser) -> None:
    """Options of every command that reads an inventory."""
    sp.add_argument("--column", action="append", metavar="HEADER=NAME",
                    help="map a header to a canonical column (id, name, address, "
                         "postcode, lat, lon, innovation_type); repeatable")
    sp.add_argument("--ignore-column", action="append", metavar="HEADER",
                    help="ignore a column of the inventory; repeatable")
    sp.add_argument("--sheet", help="worksheet of an XLSX inventory, or layer of a "
                    "GeoPackage (default: the first)")
    sp.add_argument("--use-restricted-coordinates", action="store_true", default=None,
                    help="use coordinates whose source is Google Places (default: not "
                         "used, Google's terms forbid storing them)")
    sp.add_argument("--dedupe", action="store_true", default=None,
                    help="merge certain duplicates (same point and near-same name), "
                         "keeping every source id (default: [inventory] dedupe)")
    sp.add_argument("--max-mb", type=float, metavar="MB",
                    help="largest inventory file, and largest unpacked XLSX workbook "
                         "(default: config, else 200)")
    sp.add_argument("--max-rows", type=int, metavar="N",
                    help="most data rows or features (default: config, else 200,000)")
    sp.add_argument("--max-columns", type=int, metavar="N",
                    help="most columns (default: config, else 500)")


def _batch_options(sp: argparse.ArgumentParser) -> None:
    """Arguments of ``cwsgeo batch``, and its extra exit code."""
    sp.add_argument("cities", type=Path, metavar="CITIES_TOML",
                    help="the batch file: [batch] out and retries, one [[city]] per city "
                         "(slug, and project = an existing project folder or place = a new "
                         "city; see README.md > Many cities)")
    sp.add_argument("--scheduler", metavar="tcp://HOST:8786",
                    help="an existing dask scheduler (default: a local cluster)")
    sp.add_argument("--workers", type=int, metavar="N",
                    help="worker processes of the local cluster (default: the cores)")
    sp.epilog = EXIT_CODES_HELP.replace(
        "  70 ", f"  {EXIT_CITIES_FAILED}    one or more cities failed after their retries "
        "(named on stderr; the\n       other cities' outputs and the comparison are "
        "written)\n  70 ")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cwsgeo",
        description="The geography of coworking spaces: inventory -> geocoding -> districts, "
                    "places, transit, walking proximity, densities -> maps and tables.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"cwsgeo {__version__}")
    p.add_argument("--config", type=Path, help="cwsgeo.toml (default: searched upward from "
                   "the current folder)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log output (-vv: debug, tracebacks)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print only errors: no progress bars, warnings or summary")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    inventory_help = "inventory file (default: [inventory] path of cwsgeo.toml)"

    # -v and -q are accepted after the command too (`cwsgeo build -q`)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="more log output (-vv: debug, tracebacks)")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print only errors: no progress bars, warnings or summary")

    def command(name: str, helptext: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:],
                              epilog=EXIT_CODES_HELP, parents=[common],
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    c = command("check", "validate an inventory and print its QA report")
    c.add_argument("path", type=Path, nargs="?", metavar="INVENTORY", help=inventory_help)
    c.add_argument("--all", action="store_true",
                   help="list every problem (default: the first 5 of each kind)")
    _inventory_options(c)

    g = command("geocode", "geocode an inventory and write the table")
    g.add_argument("path", type=Path, nargs="?", metavar="INVENTORY", help=inventory_help)
    g.add_argument("-o", "--output", type=Path, required=True,
                   help="output table (.csv, .gpkg or .geojson)")
    g.add_argument("--online", action=argparse.BooleanOptionalAction, default=None,
                   help="ask Nominatim when the offline gazetteer fails (default: config)")
    _inventory_options(g)

    k = command("classify", "screen the listing texts for innovation types and write the "
                "review sheet (inventory/type_review.xlsx and .csv) for a person to confirm")
    _inventory_options(k)
    k.set_defaults(path=None)

    f = command("fetch", "fill data/raw/ from the mirror or live sources, and create the "
                "editable inventory if it does not exist")
    src = f.add_mutually_exclusive_group()
    src.add_argument("--live", dest="live", action="store_true", default=None,
                     help="download from OpenStreetMap and Open Data BCN")
    src.add_argument("--mirror", dest="live", action="store_false",
                     help="copy from the local data mirror")
    f.add_argument("--only", help="comma-separated datasets (admin, addresses, streets, places, "
                   "transit, coworking)")
    _init_parser(command)

    _build_parsers(command, inventory_help)
    _batch_options(command("batch", "build many cities on dask.distributed and compare them "
                           "(cities/<slug>/ per city, cities/comparison.csv, .parquet, .html)"))
    return p


def _build_parsers(command: Callable[[str, str], argparse.ArgumentParser],
                   inventory_help: str) -> None:
    """Add ``cwsgeo build``, ``report`` and ``watch`` (one set of options, a few of their own)."""
    for name, helptext in (("build", "run the whole pipeline"),
                           ("report", "build, then compute the findings (Kd, co-location, "
                            "hot spots, comparisons by type) and write statistics.json, "
                            "report.html and report.pdf"),
                           ("watch", "rebuild whenever the inventory changes")):
        b = command(name, helptext)
        b.add_argument("--inventory", type=Path, help=inventory_help)
        b.add_argument("--out", type=Path, help="folder receiving data/processed/ and maps/ "
                       "(default: the project root)")
        src = b.add_mutually_exclusive_group()
        src.add_argument("--live", dest="live", action="store_true", default=None,
                         help="live sources (OSM, the profile's population), fetched first "
                              "unless data/raw/ is a live fetch")
        src.add_argument("--mirror", dest="live", action="store_false",
                         help="use the local data mirror")
        b.add_argument("--online-geocoding", action=argparse.BooleanOptionalAction,
                       default=None, help="Nominatim fallback for addresses (default: config)")
        b.add_argument("--cdn", action="store_true",
                       help="link Leaflet from a CDN instead of embedding it (smaller maps, "
                            "need internet)")
        b.add_argument("--no-cache", action="store_true",
                       help="recompute every stage (the geocoding cache is still used)")
        _inventory_options(b)
        if name == "build":
            b.add_argument("--dry-run", action="store_true",
                           help="show what would change without writing anything")
            b.add_argument("--statistics", action=argparse.BooleanOptionalAction, default=None,
                           help="compute the findings and the report (default: "
                                "[statistics] enabled, on)")
        elif name == "report":
            b.set_defaults(dry_run=False, statistics=True)
        else:
            b.add_argument("--interval", type=float, default=1.0,
                           help="seconds between checks when file events are unavailable")
            b.add_argument("--serve", action="store_true",
                           help="serve the maps on 127.0.0.1; open pages reload after each "
                                "rebuild (live preview)")
            b.add_argument("--port", type=int, default=8765,
                           help="port of the live preview (default: 8765; 0 picks a free one)")


def _init_parser(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Add ``cwsgeo init`` (a project folder for any OpenStreetMap place)."""
    n = command("init", "write a project folder for any OpenStreetMap place: cwsgeo.toml "
                "(live data), city.toml (the city profile, editable) and an inventory template")
    n.add_argument("folder", type=Path, nargs="?", metavar="FOLDER",
                   help="project folder (default: a slug of the place, e.g. milano)")
    n.add_argument("--place", required=True, help='Nominatim query, e.g. "Milano, Italia"')
    n.add_argument("--profile", help="city profile to start from (TOML file or built-in name; "
                   "default: defaults for the place's country, GHSL population, UTM CRS)")
    n.add_argument("--inventory", type=Path, help="inventory to copy into the project "
                   "(default: an empty template with the expected columns)")


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for noisy in ("pyogrio", "fiona", "urllib3", "matplotlib", "PIL", "rasterio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.NOTSET)


def _config(args: argparse.Namespace) -> Config:
    cfg = Config.load(args.config)
    if hasattr(args, "column"):
        # a file named on the command line is read with the command line's options only
        path = getattr(args, "path", None) or getattr(args, "inventory", None)
        cfg = cfg.with_inventory(path, columns=_mapping(args.column),
                                 ignore_columns=args.ignore_column, sheet=args.sheet)
        limits = {"max_file_mb": args.max_mb, "max_uncompressed_mb": args.max_mb,
                  "max_rows": args.max_rows, "max_columns": args.max_columns}
        limits = {k: v for k, v in limits.items() if v is not None}
        if limits:
            cfg = cfg.replace(inventory=limits)
    changes: dict[str, dict[str, object]] = {}
    if getattr(args, "live", None) is not None:
        changes["data"] = {"source": "live" if args.live else "mirror"}
    online = getattr(args, "online", None)
    if online is None:
        online = getattr(args, "online_geocoding", None)
    if online is not None:
        changes["geocoding"] = {"online": online}
    if getattr(args, "cdn", False):
        changes["maps"] = {"assets": "cdn"}
    if getattr(args, "statistics", None) is not None:
        changes["statistics"] = {"enabled": args.statistics, "report": True}
    inventory: dict[str, object] = {key: True for key in ("use_restricted_coordinates", "dedupe")
                 if getattr(args, key, None)}
    if inventory:
        changes["inventory"] = inventory
    return cfg.replace(**changes) if changes else cfg


def _progress(args: argparse.Namespace) -> bool:
    """Show progress bars only on a terminal, never with ``-q`` (no escape codes in logs)."""
    return not args.quiet and sys.stderr.isatty()


def _say(args: argparse.Namespace, text: str) -> None:
    """Print a result line unless ``-q``."""
    if not args.quiet:
        print(text, flush=True)


def _cmd_check(args: argparse.Namespace) -> int:
    from .analysis.inventory import check_inventory

    cfg = _config(args)
    inv = check_inventory(cfg.inventory_path, **cfg.inventory.read_options())
    if inv.errors or not args.quiet:
        print(inv.report(max_per_code=None if args.all else 5))
    if not inv.errors and not args.quiet:
        from .analysis.inventory.duplicates import (
            duplicate_problems,
            duplicate_summary,
            find_duplicates,
        )
        from .build.profiles import city_lexicon

        # by name, text and the file's own coordinates
        groups = find_duplicates(inv.data, city_words=city_lexicon(cfg.profile).city_words)
        if not groups.empty:
            problems = duplicate_problems(groups, inv.path.name)
            shown = problems if args.all else problems[:10]
            print(f"possible duplicates: {duplicate_summary(groups)}")
            print("\n".join(f"  {p}" for p in shown))
            if len(shown) < len(problems):
                print(f"  … and {len(problems) - len(shown)} more (--all lists them)")
    return EXIT_INVENTORY if inv.errors else EXIT_OK


def _cmd_geocode(args: argparse.Namespace) -> int:
    from .build.pipeline import geocode_file

    cfg = _config(args)
    result = geocode_file(cfg, cfg.inventory_path, args.output, progress=_progress(args))
    _say(args, result)
    return EXIT_OK


def _cmd_classify(args: argparse.Namespace) -> int:
    from .build.texts import classify

    cfg = _config(args)
    xlsx, csv, counts = classify(cfg, progress=_progress(args))
    estimated = ", ".join(f"type {k}: {v}" for k, v in counts["estimated"].items()) or "none"
    _say(args, f"wrote {xlsx} and {csv.name}: {counts['listed']} spaces to review (estimated "
               f"from listing texts: {estimated}; confirmed so far: {counts['reviewed']}).\n"
               "Fill confirmed_type (1, 2 or 3) in either file, save it, and run `cwsgeo "
               "build`: confirmed types are used as 'reviewed', the inventory is not touched.")
    return EXIT_OK


def _cmd_fetch(args: argparse.Namespace) -> int:
    from .build.cache import project_lock
    from .build.sources import fetch, seed_inventory

    cfg = _config(args)
    only = [s.strip() for s in args.only.split(",")] if args.only else None
    with project_lock(cfg.cache_dir):
        manifest = fetch(cfg, live=args.live, only=only, progress=_progress(args))
        try:
            seeded = seed_inventory(cfg)
        except MissingDataError as exc:  # no seed (live data, no mirror): not fetch's job
            logger.warning("%s", exc)
            seeded = None
    total = sum(e["bytes"] for e in manifest["files"])
    _say(args, f"fetched {len(manifest['files'])} files ({total / 1e6:,.1f} MB, source: "
          f"{manifest['source']}) into {cfg.raw_dir}; manifest: {cfg.raw_dir / 'manifest.json'}")
    if seeded:
        _say(args, f"created the editable inventory {seeded}: edit it, then run `cwsgeo build`")
    return EXIT_OK


def _cmd_init(args: argparse.Namespace) -> int:
    from .build.project import init_project

    config = init_project(args.folder, place=args.place, profile=args.profile,
                          inventory=args.inventory)
    _say(args, f"project written to {config.parent}: edit {config.parent / 'city.toml'} "
         f"(levels, population, CRS) and the inventory, then `cwsgeo --config {config} build "
         "--live`")
    return EXIT_OK


def _cmd_build(args: argparse.Namespace) -> int:
    from .build.pipeline import build

    cfg = _config(args)
    result = build(cfg, out=args.out, dry_run=args.dry_run,
                   use_cache=not args.no_cache, progress=_progress(args))
    _say(args, result.summary())
    return EXIT_OK


def _cmd_watch(args: argparse.Namespace) -> int:
    from .build.watch import watch

    cfg = _config(args)
    watch(cfg, out=args.out, use_cache=not args.no_cache, progress=_progress(args),
          interval=args.interval, report=lambda text: _say(args, text),
          serve=args.serve, port=args.port)
    return EXIT_OK


EXIT_CITIES_FAILED = 6


def _cmd_batch(args: argparse.Namespace) -> int:
    import distributed  # its import sets the level of its loggers: ours is set after

    from .build.batch import Batch, run_batch

    # dask's own chatter (scheduler and nanny start and stop) only with -vv
    logging.getLogger(distributed.__name__).setLevel(logging.NOTSET if args.verbose > 1
                                                     else logging.WARNING)
    batch = Batch.load(args.cities)
    result = run_batch(batch, scheduler=args.scheduler, workers=args.workers,
                       progress=_progress(args), report=lambda text: _say(args, text))
    _say(args, result.summary())
    if not result.failed:
        return EXIT_OK
    for slug, error in result.failed.items():
        print(f"cwsgeo: city {slug} failed: {error}", file=sys.stderr)
    print(f"cwsgeo: {len(result.failed)} of {len(batch.cities)} cities failed: "
          f"{', '.join(result.failed)}; their previous outputs are kept", file=sys.stderr)
    return EXIT_CITIES_FAILED


_COMMANDS = {"check": _cmd_check, "classify": _cmd_classify, "geocode": _cmd_geocode,
             "fetch": _cmd_fetch, "init": _cmd_init, "build": _cmd_build, "report": _cmd_build,
             "watch": _cmd_watch, "batch": _cmd_batch}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    start = time.perf_counter()
    try:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        # no monitor thread: builds fork writers (cwsgeo._parallel), and a thread holding
        # tqdm's lock at that moment would leave the child a lock it can never take
        tqdm.monitor_interval = 0

        with logging_redirect_tqdm():
            return _COMMANDS[args.command](args)
    except InventoryError as exc:
        print(f"cwsgeo: invalid inventory: {exc}", file=sys.stderr)
        print("nothing was written; previous outputs are kept. Run `cwsgeo check` for "
              "the full QA report.", file=sys.stderr)
        return EXIT_INVENTORY
    except ConfigError as exc:
        print(f"cwsgeo: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MissingDataError as exc:
        print(f"cwsgeo: missing data: {exc}", file=sys.stderr)
        return EXIT_MISSING
    except DataSourceError as exc:
        print(f"cwsgeo: live source failed: {exc}", file=sys.stderr)
        print("previous outputs are kept; retry later or use --mirror.", file=sys.stderr)
        return EXIT_SOURCE
    except CwsgeoError as exc:
        print(f"cwsgeo: {exc}", file=sys.stderr)
        return EXIT_OTHER
    except OSError as exc:
        print(f"cwsgeo: cannot read or write a file: {exc}", file=sys.stderr)
        print("nothing half-written was left; previous outputs are kept.", file=sys.stderr)
        return EXIT_OTHER
    except KeyboardInterrupt:
        print(f"cwsgeo: interrupted after {time.perf_counter() - start:.1f} s; previous "
              "outputs are kept", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so plainly; the traceback only with -vv
        if args.verbose > 1:
            raise
        print(f"cwsgeo: internal error ({type(exc).__name__}: {exc}); previous outputs are "
              "kept. Run again with -vv for the traceback and please report it.",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
