"""The house rules, checked on the source: layers, no import cycles, sizes, one memo registry."""

from __future__ import annotations

import ast
import importlib
import io
import pkgutil
import re
import tokenize
from pathlib import Path

import pytest

import cwsgeo

PACKAGE = Path(cwsgeo.__file__).resolve().parent
MAX_MODULE_LINES = 1000
MAX_FUNCTION_LINES = 100  # the guide's ~80, with room for a docstring-heavy public function


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    """Absolute cwsgeo modules named by one ``from ... import ...`` statement."""
    is_pkg = MODULES[module].name == "__init__.py"
    if node.level:
        base = module.split(".")
        base = base if is_pkg else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    if not target.startswith("cwsgeo"):
        return []
    names = [f"{target}.{a.name}" for a in node.names]
    found = [n for n in names if n in MODULES]
    return found or ([target] if target in MODULES else [])


def _imports(module: str, top_level_only: bool) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            out.update(_resolve(module, node))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in MODULES)
    out.discard(module)
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in (
        "analysis", "outputs", "build")) else "core"


def test_the_three_layers_exist_and_data_flows_one_way() -> None:
    assert {_layer(m) for m in MODULES} >= {"analysis", "outputs", "build", "core"}
    allowed = {"core": {"core"}, "analysis": {"core", "analysis"},
               "outputs": {"core", "analysis", "outputs"},
               "build": {"core", "analysis", "outputs", "build"}}
    wrong = [(m, i) for m in MODULES for i in _imports(m, top_level_only=False)
             if _layer(i) not in allowed[_layer(m)] and m != "cwsgeo" and m != "cwsgeo.cli"]
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = {m: _imports(m, top_level_only=False) for m in MODULES}
    # a package imports its own submodules to re-export them: that is not a cycle
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not d.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                pytest.fail("import cycle: " + " -> ".join([*stack[stack.index(dep):], dep]))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_modules_and_functions_stay_small() -> None:
    big = {m: n for m, p in MODULES.items()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert big == {}
    long_functions = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{module}.{node.name}: {length}")
    assert long_functions == []


def test_only_the_build_layer_keeps_module_level_memos() -> None:
    """No dict/cache at module level outside cwsgeo.build (constants are tuples/frozen)."""
    offenders = []
    for module, path in MODULES.items():
        if _layer(module) == "build":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.target if isinstance(node, ast.AnnAssign) else (
                node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1
                else None)
            value = node.value if isinstance(node, ast.AnnAssign | ast.Assign) else None
            if (isinstance(target, ast.Name) and target.id.startswith("_")
                    and target.id.lstrip("_").isupper()
                    and isinstance(value, ast.Dict) and not value.keys):
                offenders.append(f"{module}.{target.id}")  # an empty dict filled at run time
    assert offenders == []


def test_public_api_lists_only_public_names() -> None:
    for info in pkgutil.walk_packages(cwsgeo.__path__, "cwsgeo."):
        if info.name == "cwsgeo.__main__":
            continue  # running it is the command line
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", [])
        assert all(not n.startswith("_") or n == "__version__" for n in names), info.name
        missing = [n for n in names if not hasattr(module, n)]
        assert missing == [], info.name
    assert all(hasattr(cwsgeo, n) for n in cwsgeo.__all__)


def test_library_code_never_configures_logging_or_patches_other_libraries() -> None:
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if module != "cwsgeo.cli":
            assert "basicConfig" not in text and "getLogger()" not in text, module
        assert "branca.element.Template =" not in text, module
        assert "os.environ[" not in text and "os.chdir" not in text, module


def test_import_cwsgeo_stays_light() -> None:
    """The analysis API loads pandas and geopandas; scipy, numba, folium, matplotlib and osmnx
    wait until a function needs them (a rebuild that reuses cached results never imports
    them)."""
    import subprocess
    import sys

    code = ("import sys, cwsgeo.cli; print(sorted(m for m in ('scipy', 'numba', 'folium', "
            "'matplotlib', 'osmnx', 'networkx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.strip()
    assert out == "[]"


#: Names and codes of one city that must not steer the analysis or the outputs (issue 14):
#: its data come from the city profile through the build layer.
CITY_SPECIFIC = re.compile(r"barcelona|\bbcn\b|25831|pad_mdbas|catalu", re.IGNORECASE)

#: Known exceptions: (module, word) -> why the word is not one city's data.
CITY_SPECIFIC_ALLOWED: dict[tuple[str, str], str] = {
    ("cwsgeo.analysis.geocoding.normalize", "cataluna"): "Spanish -> Catalan word table, "
    "keyed by language (the region's name in the two languages)",
    ("cwsgeo.analysis.admin", "pad_mdbas"): "reader of the 'opendata_bcn' population source "
    "kind, chosen by the profile's [population] kind",
    ("cwsgeo.analysis.admin", "open data bcn"): "the same reader's error messages",
}


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    return lines


def city_specific_code(source: str, words: re.Pattern[str] = CITY_SPECIFIC
                       ) -> list[tuple[int, str]]:
    """Return ``(line, text)`` of code tokens naming one city (comments and docstrings and the
    doctests in them are skipped)."""
    docs = _docstring_lines(ast.parse(source))
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT or (tok.type == tokenize.STRING
                                            and tok.start[0] in docs):
            continue
        for m in words.finditer(tok.string):
            named = re.search(r"open data bcn", tok.string, re.IGNORECASE)
            found.append((tok.start[0], named.group() if named and m.group().lower() == "bcn"
                          else m.group()))
    return found


def test_city_specific_code_check_sees_code_not_prose() -> None:
    src = ('"""Module about Barcelona.\n\n>>> f("Barcelona")\n"""\n'
           "# near Barcelona\n"
           "def f(x):\n    '''EPSG:25831 for Barcelona.'''\n    return 'bcn'\n"
           'CRS = "EPSG:25831"\n')
    assert [line for line, _ in city_specific_code(src)] == [8, 9]


def test_no_city_specific_names_in_analysis_or_outputs() -> None:
    """Issue 14: no Barcelona place, code, CRS or word in analysis or outputs code."""
    offenders = []
    for module, path in MODULES.items():
        if _layer(module) not in ("analysis", "outputs"):
            continue
        for line, word in city_specific_code(path.read_text(encoding="utf-8")):
            key = word.lower()
            if key.startswith("catalu"):
                key = "cataluna"
            if (module, key) not in CITY_SPECIFIC_ALLOWED:
                offenders.append(f"{module}:{line}: {word}")
    assert offenders == []


#: One city's transit operators (issue 14): the analysis layer's modes are generic (metro,
#: tram, rail, bus, funicular, ferry); a city's operator modes and the rules that find them
#: come from its profile's ``[transit]`` table.
CITY_OPERATORS = re.compile(r"\bfgc\b|rodalies|renfe|\btmb\b|ferrocarrils de la generalitat",
                            re.IGNORECASE)

#: Known exceptions: (module, word) -> why the word is not a transit rule.
CITY_OPERATORS_ALLOWED: dict[tuple[str, str], str] = {
    ("cwsgeo.analysis.layers.readers", "rodalies"): "edition date of the mirror's "
    "rodalies_stations.geojson (a file name; its mode comes from the profile)",
}


def test_no_transit_operators_in_the_analysis_layer() -> None:
    offenders = []
    for module, path in MODULES.items():
        if _layer(module) != "analysis":
            continue
        for line, word in city_specific_code(path.read_text(encoding="utf-8"), CITY_OPERATORS):
            if (module, word.lower()) not in CITY_OPERATORS_ALLOWED:
                offenders.append(f"{module}:{line}: {word}")
    assert offenders == []
