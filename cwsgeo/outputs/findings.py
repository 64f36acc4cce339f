"""The findings, written: ``statistics.json``, curves and tables, figures, and the report.

:func:`findings_files` turns the statistics stage's results (plain dicts and frames, see
:mod:`cwsgeo.build.statistics`) into files; :func:`report_sections` words them for planners
(every result beside its n, types labelled as estimated when they are, how many spaces entered
each figure and at what precision) and compares them with published figures.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from ..analysis.stats._json import json_ready
from ..analysis.stats.minimums import (
    LOCAL_CLQ_K,
    MIN_KD_SIMS,
    MIN_POINTS,
    MIN_TYPE_N,
    MIN_UNITS,
)
from .labels import DEFAULT_LABELS, AreaLabels
from .report_page import Section
from .stat_figures import band_text, cluster_figure, kd_figure, type_comparison_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Published", "figure_png", "findings_figures", "findings_files", "report_sections",
           "sample_sentence", "skipped_tests", "statistics_json"]

#: A published figure the report compares with: (what, value, source); the build passes the
#: city's (:func:`cwsgeo.build.profiles.city_literature`).
Published = tuple[str, str, str]

_TYPE_NAMES = {1: "type 1 (no innovative community)", 2: "type 2 (innovative communities)",
               3: "type 3 (highly innovative communities)"}


def statistics_json(statistics: Mapping[str, Any]) -> str:
    """Return ``statistics.json``'s text (NaN and infinities as ``null``)."""
    return json.dumps(json_ready(statistics), indent=1, ensure_ascii=False) + "\n"


def skipped_tests(statistics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return ``(test, reason)`` for every test of ``statistics.json`` that was not run.

    A test not run holds a ``skipped`` reason where its result would be (e.g.
    ``agglomeration › by_type › type 3``).
    """
    out: list[tuple[str, str]] = []

    def walk(node: Any, path: list[str]) -> None:
        if not isinstance(node, Mapping):
            return
        reason = node.get("skipped")
        if isinstance(reason, str) and reason:
            out.append((" › ".join(path), reason))
            return
        for key, value in node.items():
            walk(value, [*path, str(key)])

    for section in ("agglomeration", "colocation", "hotspots", "middleground", "comparisons"):
        walk(statistics.get(section), [section])
    return out


def figure_png(fig: Figure, dpi: int = 130) -> bytes:
    """Return a figure as PNG bytes (white background)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def findings_files(curves: Mapping[str, pd.DataFrame], tables: Mapping[str, pd.DataFrame],
                   figures: Mapping[str, tuple[Figure, str]], folder: Path) -> dict[str, Path]:
    """Write the curves and tables (``statistics/*.csv``) and the figures (``figures/stats_*.png``).

    Parameters
    ----------
    curves, tables
        The statistics stage's Kd curves and result tables (a named index becomes a column).
    figures
        Name -> (figure, caption), from :func:`findings_figures`; written at 150 dpi.
    folder
        The processed-data folder.

    Returns
    -------
    dict
        ``curve_<name>``, ``table_<name>`` and ``figure_<name>`` -> path.
    """
    from .._io import write_csv
    from .figures import save_figure

    out: dict[str, Path] = {}
    for name, curve in curves.items():
        out[f"curve_{name}"] = write_csv(curve, folder / "statistics" / f"{name}.csv")
    for name, table in tables.items():
        out[f"table_{name}"] = write_csv(table.reset_index() if table.index.name else table,
                                         folder / "statistics" / f"{name}.csv")
    for name, (fig, _) in figures.items():
        out[f"figure_{name}"] = save_figure(fig, folder / "figures" / f"stats_{name}.png")
    return out


def _verdict(result: Mapping[str, Any]) -> str:
    if result.get("skipped"):
        return f"not tested ({result['skipped']})"
    if result.get("localized"):
        return f"localized at {band_text(result.get('localized_distances_m', []))}"
    if result.get("dispersed"):
        return f"dispersed at {band_text(result.get('dispersed_distances_m', []))}"
    return "neither localized nor dispersed"


def _kd_subtitle(result: Mapping[str, Any], against: str) -> str:
    return (f"n = {result.get('n')} · {result.get('n_sims')} draws from {against} (seed "
            f"{result.get('seed')}) · bandwidth {result.get('bandwidth', 0):.0f} m · "
            f"{result.get('distance')} distance")


def findings_figures(statistics: Mapping[str, Any], curves: Mapping[str, pd.DataFrame],
                     units: Mapping[str, gpd.GeoDataFrame], values: pd.DataFrame | None,
                     boundary: Any = None, source: str = "",
                     labels: AreaLabels = DEFAULT_LABELS) -> dict[str, tuple[Figure, str]]:
    """Draw every figure of the findings: name -> (figure, caption).

    ``boundary`` is the city outline of the maps; ``source`` the credit line under each figure
    (the build's data attributions; ``""``: none); ``labels`` the city's words for its areas.
    """
    out: dict[str, tuple[Figure, str]] = {}
    ref = statistics.get("meta", {}).get("reference", "addresses")
    for test in statistics.get("tests", []):
        name = test.get("name", "")
        if name.startswith("kd") and name in curves:
            what = _kd_title(name, ref)
            against = "all spaces" if name.endswith("_vs_spaces") else f"the {ref}"
            out[name] = (kd_figure(curves[name], title=what,
                                   subtitle=_kd_subtitle(test, against), source=source),
                         f"{what}: {_verdict(test)} (n = {test.get('n')}).")
    for level, frame in units.items():
        out[f"hotspots_{level}"] = (cluster_figure(
            frame, label_col="lisa_cluster", significant_col="lisa_significant",
            title=f"Hot spots of coworking spaces per {_unit(level, labels)}",
            subtitle="local Moran's I on spaces per unit; only significant units coloured",
            boundary=boundary, source=source),
            f"Local Moran's I clusters per {_unit(level, labels)}.")
    type_col = statistics.get("meta", {}).get("type_column", "innovation_type")
    # estimated types share the texts' words with the full index: show the text-free one
    metric = ("middleground_index_spatial" if type_col == "innovation_type_estimated"
              else "middleground_index")
    if values is not None and metric in values.columns:
        out[f"by_type_{metric}"] = (type_comparison_figure(
            values, metric=metric, type_col=type_col,
            title=f"{metric.replace('_', ' ').capitalize()} by innovation type",
            units="index (0–1)", subtitle=f"types from {type_col}", source=source),
            f"{metric} by type ({type_col}); " + "; ".join(
                f"{k} = {v}" for k, v in _TYPE_NAMES.items()) + ".")
    return out


def _unit(level: str, labels: AreaLabels) -> str:
    return "H3 cell" if level == "hexes" else labels.singular(level)


def _kd_title(name: str, reference: str) -> str:
    parts = name.removeprefix("kd_").split("_")
    if parts[0] == "spaces":
        return f"Kd of the coworking spaces ({parts[1]} distance)"
    if parts[0] == "cross":
        return f"Co-agglomeration of spaces with {' '.join(parts[1:])}"
    kind = parts[0].removeprefix("type")
    against = "all spaces" if parts[-1] == "spaces" else reference
    return f"Kd of type {kind} against {against}"


def report_sections(statistics: Mapping[str, Any], tables: Mapping[str, pd.DataFrame],
                    figures: Mapping[str, tuple[bytes, str]], *,
                    published: Sequence[Published] = (),
                    published_here: Sequence[tuple[str, str]] = (),
                    sources: Sequence[str] = (),
                    related_work: Sequence[str] = (),
                    labels: AreaLabels = DEFAULT_LABELS) -> list[Section]:
    """Word the findings as report sections (see :func:`~.report_page.render_report`).

    Parameters
    ----------
    statistics, tables, figures
        The statistics stage's results and the drawn figures (PNG bytes, caption).
    published
        Published figures about the city's spaces to compare with (none: no comparison).
    published_here
        ``(what, value here)`` for the ``published`` figures cwsgeo computes too.
    sources
        Credit lines of the data.
    related_work
        Sentences citing related work on the city, added to the references.
    labels
        The city's words for its districts and neighbourhoods.
    """
    inputs = statistics.get("inputs", {})
    meta = statistics.get("meta", {})
    sections = [_key_section(statistics, labels)]
    # the tests' paths name the levels by their keys ("hotspots › barris"): in the city's words
    skipped = [(" › ".join(labels.plural(k) for k in test.split(" › ")), why)
               for test, why in skipped_tests(statistics)]
    if skipped:
        sections.append(Section("Tests not run", [
            "A test needs enough points, units and simulations to mean anything (minimums in "
            "the methods); these were skipped, each for the reason given."],
            tables=[(pd.DataFrame(skipped, columns=["test", "reason"]), "Tests not run")]))
    sections.append(_data_section(inputs, meta, published, published_here))
    sections.append(Section("Agglomeration: Duranton–Overman K-density", [
        "Kd is the kernel density of the distances between every pair of spaces. The same "
        f"number of sites drawn {meta.get('n_sims')} times from the {meta.get('reference')} "
        "of the city give the counterfactual: a local band (5 %–95 % at each distance) and "
        "the global band that contains 95 % of the simulated curves entirely. Spaces are "
        "localized where their curve leaves the global band above."],
        figures=[figures[k] for k in figures if k.startswith("kd")],
        tables=_shown(_kd_table(statistics), "Kd verdicts (distances in metres)")))
    sections.append(Section("Co-location quotients", [
        "CLQ A→B: the share of A's nearest neighbours that are B, over B's share of all "
        "points (Leslie & Kronenfeld 2011); 1 = no attraction, > 1 = A's nearest neighbours "
        "are B more often than chance. p-values from random relabelling."],
        tables=[(t, c) for t, c in [(_clq_table(tables.get("clq")),
                                     "Global co-location quotients")] if t is not None]))
    sections.append(_hotspot_section(statistics, figures, labels))
    sections.append(_types_section(statistics, tables, figures))
    sections.append(_methods_section(related_work, str(meta.get("reference", "addresses")),
                                     labels))
    sections.append(Section("Data sources", list(sources)))
    return sections


def _key_section(statistics: Mapping[str, Any], labels: AreaLabels) -> Section:
    inputs, meta = statistics.get("inputs", {}), statistics.get("meta", {})
    precision = inputs.get("precision", {})
    lines = [f"{inputs.get('spaces_listed')} spaces listed, {inputs.get('located')} located; "
             f"{inputs.get('points_used')} with a point precise enough for the statistics "
             f"({precision.get('exact', 0)} at an address, {precision.get('approximate', 0)} "
             f"placed from their listing texts within ±500 m); {precision.get('area', 0)} "
             "known only by area are left out of them."]
    if meta.get("sample"):
        lines.append(sample_sentence(meta["sample"]))
    agg = statistics.get("agglomeration", {})
    if agg.get("skipped"):
        lines.append(f"Agglomeration: {_verdict(agg)}.")
    spaces = agg.get("spaces", {})
    for kind in ("euclidean", "network"):
        result = spaces.get(kind) or (spaces if kind == "euclidean" and spaces else None)
        if result and result.get("skipped"):
            lines.append(f"Agglomeration ({kind} distance): {_verdict(result)}.")
        elif result:
            lines.append(f"Agglomeration ({kind} distance): {_verdict(result)} — against "
                         f"{meta.get('reference')} drawn {result.get('n_sims')} times "
                         f"(n = {result.get('n')}).")
    cross = agg.get("co_agglomeration", {})
    if cross:
        lines.append("Co-agglomeration with " + "; ".join(
            f"{group}: {_verdict(r)}" for group, r in cross.items()) + ".")
    clq = statistics.get("colocation", {})
    if clq.get("skipped"):
        lines.append(f"Co-location quotients: {_verdict(clq)}.")
    strong = [f"{row['b']} {row['clq']:.2f} (p = {row['p_high']:.3f}, n = {row['n_a']}/"
              f"{row['n_b']})" for pop in ("places", "transit")
              for row in clq.get(pop, {}).get("pairs", [])
              if row.get("p_high") is not None and row["p_high"] < 0.05]
    if strong:
        lines.append("Spaces' nearest neighbours are more often than chance: "
                     + ", ".join(strong) + ".")
    hot = statistics.get("hotspots", {})
    for level, res in hot.items():
        if res.get("skipped"):
            lines.append(f"Hot spots per {_unit(level, labels)}: {_verdict(res)}.")
            continue
        counts = res.get("significant", {})
        lines.append(f"Hot spots per {_unit(level, labels)}: global Moran's I "
                     f"{_num(res.get('moran_i'))} (p = "
                     f"{_num(res.get('p_value'))}, n = {res.get('n')}); significant "
                     f"units: {_cluster_counts(counts)}.")
    comp = statistics.get("comparisons", {})
    if comp.get("skipped"):
        lines.append(f"Comparisons by type: {_verdict(comp)}.")
    elif comp:
        lines.append(f"Types compared: {comp.get('type_column')} — "
                     + _type_counts(inputs) + ". "
                     + ("These types are estimates from listing texts, to be confirmed; "
                        "read the comparisons as a screen."
                        if comp.get("type_column") == "innovation_type_estimated" else ""))
    return Section("Key findings", lines, key=True)


def _cluster_counts(counts: Mapping[str, int]) -> str:
    """``{"HH": 29, "LH": 27, "LL": 0}`` as "29 high-high, 27 low-high" (or "none")."""
    words = {"HH": "high-high", "LH": "low-high", "LL": "low-low", "HL": "high-low"}
    said = [f"{n} {words.get(label, label)}" for label, n in counts.items() if n]
    return ", ".join(said) or "none"


def sample_sentence(sample: Mapping[str, Any]) -> str:
    """Say which statistics ran on a sample (``statistics["meta"]["sample"]``)."""
    return (f"Agglomeration, co-location and the comparisons by type ran {sample['text']} "
            f"(a random sample of the {sample['of']:,} precise points, `[statistics] "
            "max_points`); hot spots count every space.")


def _counts(counts: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def _num(value: Any) -> str:
    try:
        return f"{float(value):.3f}"
    except (TypeError, ValueError):
        return "–"


def _type_counts(inputs: Mapping[str, Any]) -> str:
    counts = inputs.get("types_of_points", {})
    return ", ".join(f"type {k}: n = {v}" for k, v in counts.items()) or "no types"


def _data_section(inputs: Mapping[str, Any], meta: Mapping[str, Any],
                  published: Sequence[Published],
                  published_here: Sequence[tuple[str, str]]) -> Section:
    precision = pd.DataFrame([{"precision": k, "spaces": v} for k, v in
                              inputs.get("precision", {}).items()])
    compared = pd.DataFrame([{"figure": what, "published": value, "source": source,
                              "here": dict(published_here).get(what, "")}
                             for what, value, source in published])
    notes = []
    if meta.get("type_column") == "innovation_type_estimated":
        notes.append("No or too few confirmed innovation types: the comparisons by type use "
                     "the estimates from listing texts (to be confirmed with `cwsgeo "
                     "classify`). They measure how listings market themselves.")
    notes.append("Point statistics (Kd, co-location, hot spots, walking distances) use only "
                 "spaces located within ±500 m; every result carries its n, and small "
                 "samples (n < 10) are flagged.")
    tables = [(precision, "Spaces by location precision")]
    if len(compared):
        tables.append((compared, "Published figures and the same figures here"))
    return Section("Data, precision and published figures" if len(compared)
                   else "Data and precision", [
        f"Computed by cwsgeo {meta.get('cwsgeo')} on {meta.get('computed')}, seed "
        f"{meta.get('seed')}, {meta.get('n_sims')} simulations per test; metric work in "
        f"{meta.get('crs')}. Types of the spaces in the statistics: "
        f"{_type_counts(inputs)}."], notes=notes, tables=tables)


def _kd_table(statistics: Mapping[str, Any]) -> pd.DataFrame:
    rows = [{"test": t.get("name"), "n": t.get("n"), "distance": t.get("distance"),
             "verdict": _verdict(t), "global confidence": t.get("global_confidence"),
             "seed": t.get("seed")}
            for t in statistics.get("tests", []) if str(t.get("name", "")).startswith("kd")]
    return pd.DataFrame(rows)


def _shown(table: pd.DataFrame, caption: str) -> list[tuple[pd.DataFrame, str]]:
    """Return the table with its caption, or nothing when it has no row (tests not run)."""
    return [(table, caption)] if len(table) else []


def _clq_table(table: pd.DataFrame | None) -> pd.DataFrame | None:
    if table is None or table.empty:
        return None
    cols = [c for c in ("population", "a", "b", "n_a", "n_b", "clq", "p_high", "p_low")
            if c in table.columns]
    return table[cols]


def _hotspot_section(statistics: Mapping[str, Any], figures: Mapping[str, tuple[bytes, str]],
                     labels: AreaLabels) -> Section:
    rows = []
    for level, res in statistics.get("hotspots", {}).items():
        if res.get("skipped"):
            continue
        rows.append({"unit": _unit(level, labels), "n": res.get("n"),
                     "Moran's I": res.get("moran_i"),
                     "p": res.get("p_value"),
                     "significant units": _counts(res.get("significant", {}))})
    return Section("Hot spots", [
        "Local Moran's I (esda) of the number of spaces per H3 cell and per "
        f"{labels.neighbourhood}, with "
        "permutation p-values: HH = many spaces among neighbours with many (a hot spot), "
        "LH = few among many. Only significant units are coloured."],
        figures=[figures[k] for k in figures if k.startswith("hotspots")],
        tables=_shown(pd.DataFrame(rows), "Global and local Moran's I"))


def _types_section(statistics: Mapping[str, Any], tables: Mapping[str, pd.DataFrame],
                   figures: Mapping[str, tuple[bytes, str]]) -> Section:
    comp = statistics.get("comparisons", {})
    shown = []
    for name, caption in (("by_type_groups", "Medians by type with bootstrap 95 % CIs"),
                          ("by_type_kruskal", "Kruskal–Wallis across types"),
                          ("by_type_pairwise", "Pairwise permutation tests, Cliff's delta")):
        table = tables.get(name)
        if table is not None and not table.empty:
            shown.append((table.drop(columns=[c for c in ("warning",) if c in table]),
                          caption))
    return Section("Middleground and innovation types", [
        "The middleground indicators per space: places (venues within 5 and 10 walking "
        "minutes, local buzz), spaces (other coworking spaces within 5 and 10 minutes), "
        "events (venues that host events within 10 minutes; programmed events in the "
        "listing text) and projects (the text's projects and start-up support signals); "
        "the index is the mean of their percentile ranks.",
        f"Types compared: {comp.get('type_column', '–')}; every row gives the n of each "
        "type, and a p-value never comes without them.",
        "With types estimated from listing texts, read middleground_index_spatial: the full "
        "index and its events and projects components score the same words as the screen "
        "that estimated the types, so they agree with it partly by construction."],
        figures=[figures[k] for k in figures if k.startswith("by_type")], tables=shown)


#: How the methods word each ``[statistics] reference`` (Kd's counterfactual sites).
_REFERENCES = {"addresses": "the address points (the built fabric)",
               "residents": "the address points weighted by residents",
               "places": "the OpenStreetMap places (no address gazetteer)"}


def _methods_section(related_work: Sequence[str] = (), reference: str = "addresses",
                     labels: AreaLabels = DEFAULT_LABELS) -> Section:
    return Section("Methods and references", [
        "Kd (Duranton & Overman 2005, Review of Economic Studies 72:1077–1106): "
        "K(d) = 1/(n(n−1)/2 · h) Σ_i<j f((d − d_ij)/h), Gaussian kernel f, Silverman's "
        "bandwidth h, reflection at 0; counterfactual sites drawn from "
        f"{_REFERENCES.get(reference, reference)}; local 5 %/95 % bands and the global band "
        "containing 95 % of the simulated curves entirely. Co-agglomeration keeps the "
        "partner set fixed (Duranton & Overman 2008).",
        "Co-location quotient (Leslie & Kronenfeld 2011, Geographical Analysis 43:306–326): "
        "CLQ_A→B = (C_A→B / N_A) / (N_B / (N − 1)), ties shared; local CLQ with an adaptive "
        "Gaussian kernel over 8 nearest neighbours (Cromley et al. 2014; Wang et al. 2017).",
        "Hot spots: local Moran's I (Anselin 1995) with esda, row-standardised contiguity "
        f"weights (H3 neighbours, Queen contiguity of {labels.neighbourhoods}), conditional "
        "permutations.",
        "Comparisons by type: medians with percentile bootstrap 95 % intervals, "
        "Kruskal–Wallis, permutation tests of median differences with Holm's correction, "
        "Cliff's delta; Spearman correlation with the ordinal type.",
        f"Minimums (below them a test is not run, and says why): {MIN_POINTS} spaces or "
        f"partner points for Kd, the co-location quotients and the hot spots (Duranton & "
        f"Overman 2005 test industries of ten establishments or more); {MIN_TYPE_N} spaces "
        f"for a type tested on its own; {MIN_UNITS} units for local Moran's I; "
        f"{MIN_KD_SIMS} simulations for Kd's band; more spaces and places than the local "
        f"co-location quotient's {LOCAL_CLQ_K} neighbours.", *related_work])
