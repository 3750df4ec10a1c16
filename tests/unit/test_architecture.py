"""The package's import graph, read from the source: no cycle between modules, none between the package's parts,
no part importing a layer above it, and nothing of the tests shipped in or imported by the package."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "rwa"

LAYERS: list[set[str]] = [
    {"rwa.errors", "rwa.paths", "rwa.settings"},
    {"rwa.model"},
    {"rwa.build"},
    {"rwa.chain", "rwa.leverage"},
    {"rwa.onchain"},
    {"rwa.issuance", "rwa.oracle", "rwa.replay"},
    {"rwa.cli"},
]
"""The layers of ``docs/architecture.md``, lowest first: a part imports only parts of its own layer or below."""

INNER_LAYERS: dict[str, list[set[str]]] = {
    "rwa.model": [
        {"units", "calendar"},
        {"deal", "waterfall", "offering_book"},
        {"deal_file", "placement", "terms", "fleet"},
    ],
    "rwa.replay": [
        {"ledger", "outputs", "svg"},
        {"ingest", "history"},
        {"findings"},
        {"checks"},
        {"report", "totals", "asset_report"},
        {"run"},
    ],
}
"""The layers inside a part whose modules build on one another, lowest first (each module named by its first name
under the part: ``checks`` stands for every module of ``rwa.replay.checks``); a module imports only modules of its
own layer or below."""

CHECKS = "rwa.replay.checks"
"""The replay's checks: each imports the replay's shared types and history, never another check (``run`` orders
them)."""


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(path: Path, name: str, known: dict[str, Path]) -> Iterator[str]:
    """Every module of the package that ``path`` imports, at any depth of its code (lazy imports included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target.startswith("tests"):
                yield target
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports(path, name, known)) for name, path in known.items()}


def part(module: str) -> str:
    return ".".join(module.split(".")[:2])


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_modules() -> None:
    assert cycles(graph()) == []


def test_no_import_cycle_between_the_packages_parts() -> None:
    parts: dict[str, set[str]] = {}
    for module, targets in graph().items():
        parts.setdefault(part(module), set()).update(part(t) for t in targets if part(t) != part(module))
    assert cycles(parts) == []


def test_each_part_imports_only_its_layer_or_below() -> None:
    layer_of = {name: i for i, names in enumerate(LAYERS) for name in names}
    wrong = []
    for module, targets in graph().items():
        if module == "rwa":
            continue
        assert part(module) in layer_of, f"{part(module)} is in no layer: add it to LAYERS and docs/architecture.md"
        for target in targets:
            if target.startswith("tests"):
                continue
            if layer_of[part(target)] > layer_of[part(module)]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def inner(module: str, package: str) -> str | None:
    """``module``'s first name under ``package``, or ``None`` when it is not under it."""
    if not module.startswith(package + "."):
        return None
    return module[len(package) + 1 :].split(".")[0]


def test_each_module_of_a_layered_part_imports_only_its_layer_or_below() -> None:
    edges = graph()
    wrong = []
    for package, layers in INNER_LAYERS.items():
        level = {name: i for i, names in enumerate(layers) for name in names}
        for module, targets in edges.items():
            name = inner(module, package)
            if name is None:
                continue
            assert name in level, f"{module} is in no layer of {package}: add it to INNER_LAYERS"
            for target in targets:
                other = inner(target, package)
                if other is not None and level[other] > level[name]:
                    wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_the_replays_checks_import_no_other_check() -> None:
    wrong = [f"{m} -> {t}" for m, ts in graph().items() if m.startswith(CHECKS + ".")
             for t in ts if t.startswith(CHECKS + ".")]
    assert wrong == []


def test_the_package_never_imports_the_tests() -> None:
    assert [(m, t) for m, ts in graph().items() for t in ts if t.startswith("tests")] == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_architecture_doc_names_every_part() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = sorted({part(m) for m in modules() if m != "rwa"} - {p for p in doc.replace("`", " ").split()})
    assert missing == []
