"""The shape of ``src/summarize``: one folder per layer, each importing only its own
layer or those below; one stage per file, no names that look alike in one folder, no
private reach-ins, no import cycles, no module or function too long to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "summarize"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60
# Declarative argument tables: long, but one flat list of declarations.
TABLES = {("cli/common.py", "build_parser")}
# The layers, lowest first (see the package docstring). A folder is its own layer; the
# top-level modules are named here.
LAYERS = (
    "core", "model", "options", "text", "source", "request", "answer", "pipeline", "many",
    "render", "cli", "top",
)  # fmt: skip
TOP_LEVEL = {
    "summarize.errors": "core",
    "summarize.schema": "core",
    "summarize.clock": "core",
    "summarize.sync": "core",
    "summarize.progress": "core",
    "summarize.paths": "core",
    "summarize.options": "options",
    "summarize": "top",
    "summarize.__main__": "top",
    "summarize.ray": "top",
    "summarize.spark": "top",
}


def _modules() -> tuple[dict[str, ast.Module], dict[str, Path]]:
    trees, files = {}, {}
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        trees[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        files[name] = path
    return trees, files


MODULES, FILES = _modules()


def _type_checking_blocks(tree: ast.Module) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks (never run)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def _imports(name: str, tree: ast.Module) -> list[tuple[str, list[str], int]]:
    """(module, names, line) of every import that runs, top-level or in a function."""
    skipped = _type_checking_blocks(tree)
    package = name if name in _packages() else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.append((base, [alias.name for alias in node.names], node.lineno))
    return found


def _packages() -> set[str]:
    return {
        ".".join(p.relative_to(SRC.parent).parts)
        for p in SRC.rglob("__init__.py")
        for p in [p.parent]
    }


def _target(module: str, names: list[str]) -> list[str]:
    """The summarize modules an import loads (``from summarize import x`` loads x)."""
    if not module.startswith("summarize"):
        return []
    targets = [module] if module in MODULES else []
    targets += [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
    return targets


def test_no_module_imports_another_modules_private_names():
    offenders = [
        f"{name}:{line}: from {module} import {', '.join(private)}"
        for name, tree in MODULES.items()
        for module, names, line in _imports(name, tree)
        if module.startswith("summarize")
        and (private := [n for n in names if n.startswith("_") and not n.startswith("__")])
    ]
    assert offenders == []


def test_no_private_attribute_of_another_object_is_used():
    """``other._name`` (not ``self.`` or ``cls.``): a reach-in past a public API."""
    offenders = []
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                and ast.unparse(node) != "os._exit"  # the standard library's, public
            ):
                offenders.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    # argparse offers no public way to re-word an inherited positional argument.
    allowed = {"summarize.cli.compare"}
    assert [o for o in offenders if o.split(":")[0] not in allowed] == []


def _graph() -> dict[str, set[str]]:
    """Module -> the summarize modules it imports (outside ``TYPE_CHECKING``)."""
    graph = {
        name: {t for module, names, _ in _imports(name, tree) for t in _target(module, names)}
        - {name}
        for name, tree in MODULES.items()
    }
    # A module imports its package's __init__ on the way (``from summarize import x``
    # loads x); that is not a dependency.
    for name, edges in graph.items():
        edges -= {p for p in _packages() if name.startswith(p + ".") or p == "summarize"}
    return graph


def layer_of(module: str) -> str:
    """The layer of a module: its folder under ``summarize``, or ``TOP_LEVEL``'s name."""
    if module in TOP_LEVEL:
        return TOP_LEVEL[module]
    return module.split(".")[1]


def test_every_module_has_a_layer():
    assert {layer_of(name) for name in MODULES} <= set(LAYERS), sorted(
        {layer_of(name) for name in MODULES} - set(LAYERS)
    )


def test_a_layer_imports_only_its_own_layer_or_those_below():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = [
        f"{name} ({layer_of(name)}) imports {target} ({layer_of(target)})"
        for name, targets in _graph().items()
        for target in sorted(targets)
        if rank[layer_of(target)] > rank[layer_of(name)]
    ]
    assert upward == []


def _stems_cross(a: str, b: str) -> bool:
    """``model``/``models``, ``batch``/``batchapi``: a plural, or one name the start of
    the other (of four letters or more)."""
    short, long = sorted((a, b), key=len)
    return long in (short + "s", short + "es") or (len(short) >= 4 and long.startswith(short))


def test_no_two_modules_in_a_folder_look_alike():
    folders: dict[Path, list[str]] = {}
    for path in SRC.rglob("*"):
        if path.name == "__init__.py" or path.name.startswith((".", "__pycache__")):
            continue
        if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
            folders.setdefault(path.parent, []).append(path.stem)
    crossed = [
        f"{folder.relative_to(SRC.parent)}: {a} and {b}"
        for folder, stems in folders.items()
        for i, a in enumerate(sorted(stems))
        for b in sorted(stems)[i + 1 :]
        if _stems_cross(a, b)
    ]
    assert crossed == []
    assert _stems_cross("model", "models")
    assert _stems_cross("batch", "batchapi")
    assert not _stems_cross("run", "runner")  # too short a name to be a prefix


def test_there_are_no_import_cycles():
    graph = _graph()
    cycles = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_and_functions_are_short(name):
    tree, file = MODULES[name], FILES[name]
    lines = len(file.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{file.name}: {lines} lines"
    relative = str(file.relative_to(SRC))
    long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        and (relative, node.name) not in TABLES
    ]
    assert long == []


def test_the_checks_see_what_they_check():
    """The walkers find the imports and functions they are meant to judge."""
    assert len(MODULES) > 30
    pipeline = _imports("summarize.pipeline.summarizer", MODULES["summarize.pipeline.summarizer"])
    assert any(module == "summarize.options" for module, _, _ in pipeline)
    assert "summarize.cli.common" in {
        t for module, names, _ in _imports("summarize.cli", MODULES["summarize.cli"])
        for t in _target(module, names)
    }  # fmt: skip
    bad = ast.parse("from summarize.pipeline.summarizer import _as_article\nx = other._secret\n")
    assert _imports("summarize.fake", bad)[0][1] == ["_as_article"]
