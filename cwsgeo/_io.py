"""Safe file output: atomic writes, checksums, spreadsheet-safe CSV, GeoPackage, GeoParquet.

Every file cwsgeo writes goes through :func:`atomic_path` (write to a temporary file in the
same folder, flush and fsync, then ``os.replace``), so a build killed at any moment leaves
either the previous file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it into place atomically.

    Parameters
    ----------
    path
        Final destination. Its folder is created if needed.

    Yields
    ------
    Path
        Temporary file to write (same folder and suffix as ``path``). It is removed if the
        block raises, and the previous ``path`` stays untouched.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".tmp{dest.suffix}",
                                    dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(dest)
        _fsync_dir(dest.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write bytes atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented UTF-8 JSON atomically and return the path."""
    return write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Return a JSON file's content, or ``None`` if it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _formula_like(series: pd.Series) -> bool:
    """Whether a column has a text cell starting like a formula (tested in C when it can be)."""
    try:
        hits = series.str.startswith(_FORMULA_START)  # texts, and texts among other values
    except AttributeError:  # no text at all (booleans, dates...)
        return False
    return bool(hits.eq(True).any())  # NaN/NA (no text) is not a hit, whatever the dtype


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot run as spreadsheet formulas.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    apostrophe (OWASP's advice against CSV injection). Numbers are left alone, so ``-3.5``
    stays a number.

    Parameters
    ----------
    df
        Table about to be exported.

    Returns
    -------
    pandas.DataFrame
        A copy with neutralised text cells.
    """
    import pandas as pd

    def safe(value: Any) -> Any:
        return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) \
            else value

    out = df.copy()
    out.columns = [safe(str(c)) for c in out.columns]  # headers come from the inventory too
    for col in out.columns:
        series = out[col]
        texts = not pd.api.types.is_numeric_dtype(series.dtype) or isinstance(
            series.dtype, pd.CategoricalDtype)
        if texts and _formula_like(series):
            out[col] = series.astype(object).map(safe)
    return out


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table as UTF-8 CSV, atomically and safe against formula injection."""
    import pandas as pd

    with atomic_path(path) as tmp:
        neutralise_formulas(pd.DataFrame(df)).to_csv(tmp, index=False, encoding="utf-8")
    return Path(path)


def write_gpkg(layers: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write one or more GeoDataFrames (layer name -> frame) to one GeoPackage atomically."""
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio",
                        append=tmp.exists())
    return Path(path)


def gpkg_layers(path: str | os.PathLike[str]) -> list[str]:
    """Return the layer names of a GeoPackage, in order."""
    import pyogrio

    return [str(name) for name, _ in pyogrio.list_layers(path)]


def geoparquet_paths(gpkg: str | os.PathLike[str], layers: list[str]) -> dict[str, Path]:
    """Return the GeoParquet twin of each layer of a GeoPackage: layer name -> path.

    A one-layer ``name.gpkg`` gets ``name.parquet``; a GeoPackage with several layers gets
    ``name.<layer>.parquet`` per layer, so the files stay unambiguous. Characters other than
    letters, digits, ``-`` and ``_`` in a layer name become ``_``.

    Parameters
    ----------
    gpkg
        The GeoPackage.
    layers
        Its layer names, in order.
    """
    import re

    gpkg = Path(gpkg)
    if len(layers) == 1:
        return {layers[0]: gpkg.with_suffix(".parquet")}
    return {layer: gpkg.with_name(f"{gpkg.stem}.{re.sub(r'[^A-Za-z0-9_-]', '_', layer)}.parquet")
            for layer in layers}


def write_geoparquet(gdf: Any, path: str | os.PathLike[str], *,
                     crs: str = "EPSG:4326") -> Path:
    """Write a GeoDataFrame as GeoParquet in ``crs``, atomically, and return the path.

    Parameters
    ----------
    gdf
        A GeoDataFrame (any CRS; reprojected to ``crs``).
    path
        Destination ``.parquet``.
    crs
        CRS of the file.
    """
    with atomic_path(path) as tmp:
        gdf.to_crs(crs).to_parquet(tmp, index=False)
    return Path(path)


def write_geoparquet_twins(gpkg: str | os.PathLike[str], *,
                           crs: str = "EPSG:4326") -> dict[str, Path]:
    """Write a GeoParquet file beside a GeoPackage for each of its layers.

    Layers are read back through Arrow, so column types (nullable integers, strings) are
    kept; names follow :func:`geoparquet_paths`.

    Parameters
    ----------
    gpkg
        An existing GeoPackage.
    crs
        CRS of the GeoParquet files.

    Returns
    -------
    dict[str, Path]
        Layer name -> file written.
    """
    import pandas as pd
    import pyogrio

    out = geoparquet_paths(gpkg, gpkg_layers(gpkg))
    for name, path in out.items():
        gdf = pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True,
                                     arrow_to_pandas_kwargs={"types_mapper": pd.ArrowDtype})
        write_geoparquet(gdf, path, crs=crs)
    return out


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
