"""The ``cwsgeo`` command: argument parsing, logging, progress bars and exit codes.

Subcommands: ``check`` (inventory QA), ``geocode`` (write a geocoded table), ``fetch`` (fill
``data/raw/``), ``build`` (the whole pipeline), ``watch`` (rebuild when the inventory
changes) and ``serve`` (keep a warm build process, see :mod:`cwsgeo.server`; ``build`` uses
it when it runs). Library modules never print or configure logging; this one does. Every
:class:`~cwsgeo.CwsgeoError` becomes a readable message and a non-zero exit code, never a
traceback.

Exit codes: 0 success, 1 invalid inventory, 2 bad usage or config, 3 missing data,
4 a live source failed, 5 other error (including files that cannot be read or written),
70 internal error (a bug; ``-vv`` shows the traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from ._errors import (
    ConfigError,
    CwsgeoError,
    DataSourceError,
    InventoryError,
    MissingDataError,
)
from .config import Config

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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cwsgeo",
        description="The geography of coworking spaces: inventory -> geocoding -> districts, "
                    "places, transit, walking proximity, densities -> maps and tables.")
    p.add_argument("--version", action="version", version=f"cwsgeo {__version__}")
    p.add_argument("--config", type=Path, help="cwsgeo.toml (default: searched upward from "
                   "the current folder)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars, only errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def inventory_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--column", action="append", metavar="HEADER=NAME",
                        help="map a header to a canonical column (id, name, address, "
                             "postcode, lat, lon, innovation_type); repeatable")
        sp.add_argument("--ignore-column", action="append", metavar="HEADER",
                        help="ignore a column of the inventory; repeatable")
        sp.add_argument("--sheet", help="worksheet of an XLSX inventory")

    c = sub.add_parser("check", help="validate an inventory and print its QA report")
    c.add_argument("path", type=Path)
    c.add_argument("--all", action="store_true",
                   help="list every problem (default: the first 5 of each kind)")
    inventory_opts(c)

    g = sub.add_parser("geocode", help="geocode an inventory and write the table")
    g.add_argument("path", type=Path)
    g.add_argument("-o", "--output", type=Path, required=True,
                   help="output table (.csv, .gpkg or .geojson)")
    g.add_argument("--online", action=argparse.BooleanOptionalAction, default=None,
                   help="ask Nominatim when the offline gazetteer fails (default: config)")
    inventory_opts(g)

    f = sub.add_parser("fetch", help="fill data/raw/ from the mirror or live sources")
    src = f.add_mutually_exclusive_group()
    src.add_argument("--live", dest="live", action="store_true", default=None,
                     help="download from OpenStreetMap and Open Data BCN")
    src.add_argument("--mirror", dest="live", action="store_false",
                     help="copy from the local data mirror")
    f.add_argument("--only", help="comma-separated datasets (admin, addresses, streets, places, "
                   "transit, coworking)")

    for name, helptext in (("build", "run the whole pipeline"),
                           ("watch", "rebuild whenever the inventory changes")):
        b = sub.add_parser(name, help=helptext)
        b.add_argument("--inventory", type=Path, help="inventory file (default: config)")
        b.add_argument("--out", type=Path, help="folder receiving data/processed/ and maps/ "
                       "(default: the project root)")
        src = b.add_mutually_exclusive_group()
        src.add_argument("--live", dest="live", action="store_true", default=None,
                         help="use live sources (OSM, Open Data BCN) instead of the mirror")
        src.add_argument("--mirror", dest="live", action="store_false",
                         help="use the local data mirror")
        b.add_argument("--online-geocoding", action=argparse.BooleanOptionalAction,
                       default=None, help="Nominatim fallback for addresses (default: config)")
        b.add_argument("--cdn", action="store_true",
                       help="link Leaflet from a CDN instead of embedding it (smaller maps, "
                            "need internet)")
        b.add_argument("--no-cache", action="store_true",
                       help="recompute every stage (the geocoding cache is still used)")
        inventory_opts(b)
        if name == "build":
            b.add_argument("--dry-run", action="store_true",
                           help="show what would change without writing anything")
            b.add_argument("--no-server", action="store_true",
                           help="build in this process even if `cwsgeo serve` runs for the "
                                "project (also: CWSGEO_NO_SERVER=1)")
        else:
            b.add_argument("--interval", type=float, default=1.0,
                           help="seconds between checks when file events are unavailable")
    s = sub.add_parser("serve", help="keep a warm build process: later `cwsgeo build` runs "
                       "in it, without the ~1 s of Python start-up and imports")
    s.add_argument("--idle-timeout", type=float, default=3600.0, metavar="SECONDS",
                   help="exit after this long without a build (default: 3600)")
    action = s.add_mutually_exclusive_group()
    action.add_argument("--detach", action="store_true",
                        help="run in the background (log: <cache>/server.log)")
    action.add_argument("--status", action="store_true", help="show the running server")
    action.add_argument("--stop", action="store_true", help="stop the running server")
    return p


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for noisy in ("pyogrio", "fiona", "urllib3", "matplotlib", "PIL", "rasterio"):
        # (reset each time: the build server runs builds of any verbosity in one process)
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.NOTSET)


def _config(args: argparse.Namespace) -> Config:
    cfg = Config.load(args.config)
    if hasattr(args, "column"):
        # a file named on the command line is read with the command line's options only
        path = getattr(args, "path", None) or getattr(args, "inventory", None)
        cfg = cfg.with_inventory(path, columns=_mapping(args.column),
                                 ignore_columns=args.ignore_column, sheet=args.sheet)
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
    return cfg.replace(**changes) if changes else cfg


def _cmd_check(args: argparse.Namespace) -> int:
    from .inventory import check_inventory

    cfg = _config(args)
    inv = check_inventory(cfg.inventory_path, cfg.inventory.columns,
                          cfg.inventory.ignore_columns, cfg.inventory.sheet)
    print(inv.report(max_per_code=None if args.all else 5))
    return EXIT_INVENTORY if inv.errors else EXIT_OK


def _cmd_geocode(args: argparse.Namespace) -> int:
    from .pipeline import geocode_file

    cfg = _config(args)
    result = geocode_file(cfg, cfg.inventory_path, args.output, progress=not args.quiet)
    print(result)
    return EXIT_OK


def _cmd_fetch(args: argparse.Namespace) -> int:
    from ._cache import project_lock
    from .sources import fetch

    cfg = _config(args)
    only = [s.strip() for s in args.only.split(",")] if args.only else None
    with project_lock(cfg.cache_dir):
        manifest = fetch(cfg, live=args.live, only=only, progress=not args.quiet)
    total = sum(e["bytes"] for e in manifest["files"])
    print(f"fetched {len(manifest['files'])} files ({total / 1e6:,.1f} MB, source: "
          f"{manifest['source']}) into {cfg.raw_dir}; manifest: {cfg.raw_dir / 'manifest.json'}")
    return EXIT_OK


def _cmd_build(args: argparse.Namespace) -> int:
    from .pipeline import build

    cfg = _config(args)
    result = build(cfg, out=args.out, dry_run=args.dry_run,
                   use_cache=not args.no_cache, progress=not args.quiet)
    print(result.summary())
    if (result.cache_hits and not (args.quiet or args.no_server)
            and not os.environ.get("CWSGEO_NO_SERVER")
            and sys.stdout.isatty()):  # a rebuild at a terminal, not through the server
        print("tip: `cwsgeo serve --detach` keeps a warm build process for this project; "
              "rebuilds after an edit then take about a second")
    return EXIT_OK


def _cmd_watch(args: argparse.Namespace) -> int:
    from .pipeline import watch

    cfg = _config(args)
    watch(cfg, out=args.out, use_cache=not args.no_cache,
          progress=not args.quiet, interval=args.interval, report=print)
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from . import server

    cfg = Config.load(args.config)
    if args.status or args.stop:
        status = server.server_status(cfg.cache_dir)
        if status is None:
            print(f"no build server runs for {cfg.root}")
            return EXIT_OK
        if args.stop:
            server.stop_server(cfg.cache_dir)
            print(f"build server {status['pid']} stopped")
        else:
            print(f"build server {status['pid']} for {status['project']}: up "
                  f"{time.time() - status['started']:.0f} s, {status['builds']} build(s) served")
        return EXIT_OK
    if args.detach:
        return _detach(cfg, args.idle_timeout)
    served = server.serve(cfg.cache_dir, project=str(cfg.root), idle_timeout_s=args.idle_timeout,
                          config=cfg, ready=lambda path: print(
                              f"build server for {cfg.root} ready ({path}); `cwsgeo build` in "
                              "this project now runs here. Ctrl-C stops it.", flush=True))
    print(f"build server stopped after {served} build(s)")
    return EXIT_OK


def _detach(cfg: Config, idle_timeout: float) -> int:
    """Start the server in the background and return once it accepts builds."""
    import contextlib

    from . import server

    if not hasattr(os, "fork") or not hasattr(os, "setsid"):
        raise CwsgeoError("the build server needs a POSIX system (fork and Unix sockets)")
    log = cfg.cache_dir / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the daemon (tested through the CLI)
        os.setsid()
        if os.fork():
            os._exit(0)
        with Path(os.devnull).open("rb") as null, log.open("ab") as out:
            os.dup2(null.fileno(), 0)
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
        os.closerange(3, 1 << 16)  # keep no pipe of the caller open (it would wait for us)
        code = EXIT_OK
        try:
            _setup_logging(1, False)
            server.serve(cfg.cache_dir, project=str(cfg.root), idle_timeout_s=idle_timeout,
                         config=cfg)
        except BaseException as exc:  # a daemon reports to its log
            print(f"cwsgeo serve: {exc}", file=sys.stderr, flush=True)
            code = EXIT_OTHER
        os._exit(code)
    os.waitpid(pid, 0)
    start = log.stat().st_size if log.exists() else 0
    deadline = time.monotonic() + 1800  # the warm-up rehearses a build, cold if need be
    while time.monotonic() < deadline:
        status = server.server_status(cfg.cache_dir)
        if status is not None:
            print(f"build server {status['pid']} for {cfg.root} ready; log: {log}")
            return EXIT_OK
        with contextlib.suppress(OSError), log.open("rb") as fh:
            fh.seek(start)
            if b"cwsgeo serve: " in fh.read():  # the daemon reported a failure and ended
                break
        time.sleep(0.2)
    print(f"cwsgeo: the build server did not start; see {log}", file=sys.stderr)
    return EXIT_OTHER


_COMMANDS = {"check": _cmd_check, "geocode": _cmd_geocode, "fetch": _cmd_fetch,
             "build": _cmd_build, "watch": _cmd_watch, "serve": _cmd_serve}


def _via_server(args: argparse.Namespace, argv: Sequence[str]) -> int | None:
    """Hand ``cwsgeo build`` to the project's build server, if one runs (else ``None``)."""
    if args.command != "build" or args.no_server or os.environ.get("CWSGEO_NO_SERVER"):
        return None
    try:
        cache_dir = Config.load(args.config).cache_dir
    except CwsgeoError:
        return None  # the local build reports the problem
    from .server import request

    return request(cache_dir, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    served = _via_server(args, argv)
    if served is not None:
        return served
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
        print("nothing was written; previous outputs are kept. Run `cwsgeo check FILE` for "
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
