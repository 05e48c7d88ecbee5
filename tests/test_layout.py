"""The import graph keeps to the layout: `core` imports no domain, packages import in one direction.

Every module under backend/consentlens is parsed with `ast`; imports at module level and inside
functions both count (a function-level import is still a dependency, only a later one).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import consentlens

ROOT = Path(consentlens.__file__).resolve().parent
ENTRY_MODULES = {"consentlens.main", "consentlens.wiring", "consentlens.cli"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in ROOT.rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The consentlens modules that `name` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                # `from consentlens.photos import enrollment` imports the module enrollment.
                submodule = f"{module}.{alias.name}"
                found.add(submodule if submodule in known else module)
    return {target for target in found if target.startswith("consentlens.")}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _package(module: str) -> str:
    return module.split(".")[1]


def _package_edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, targets in _graph().items():
        if source == "consentlens":
            continue
        for target in targets:
            if _package(source) != _package(target):
                edges[(_package(source), _package(target))].append(f"{source} -> {target}")
    return edges


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_graph_sees_module_and_function_level_imports():
    graph = _graph()
    assert "consentlens.faces.enrollment" in graph["consentlens.wiring"]  # module level
    assert "consentlens.faces.processing" in graph["consentlens.cli"]  # inside a command


def test_core_imports_no_domain():
    offending = [
        f"{source} -> {target}"
        for source, targets in _graph().items()
        if source.startswith("consentlens.core.")
        for target in targets
        if not target.startswith("consentlens.core.")
    ]
    assert offending == []


def test_no_package_imports_an_entry_point():
    offending = [
        f"{source} -> {target}"
        for source, targets in _graph().items()
        if source not in ENTRY_MODULES
        for target in targets
        if target in ENTRY_MODULES
    ]
    assert offending == []


def test_no_import_cycle_between_packages():
    edges = _package_edges()
    cycles = _cycles(set(edges))
    details = {
        cycle: [
            line for (a, b), lines in edges.items() if a in cycle and b in cycle for line in lines
        ]
        for cycle in map(tuple, cycles)
    }
    assert cycles == [], f"import cycles between packages: {details}"


def test_no_import_cycle_between_modules():
    # Stricter than the package rule: within a room too, modules import one way.
    edges = {
        (source, target)
        for source, targets in _graph().items()
        if source != "consentlens"
        for target in targets
        if target not in {source, "consentlens"}
    }
    assert _cycles(edges) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]


def _readme_layout() -> str:
    readme = (ROOT.parents[1] / "README.md").read_text()
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def test_the_readme_layout_names_every_room_and_nothing_else():
    rooms = {
        f"{path.name}/" if path.is_dir() else path.name
        for path in ROOT.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and path.name != "__init__.py")
    }
    block = _readme_layout()
    # The rooms are the lines indented by exactly two spaces under backend/consentlens/.
    package = block.split("backend/consentlens/", 1)[1]
    named = set()
    for line in package.splitlines()[1:]:
        if line and not line.startswith(" "):
            break
        if line.startswith("  ") and not line.startswith("   "):
            named.add(line.split()[0])
    assert named == rooms


# The order the README's Layout gives: a package imports only packages of lower layers.
LAYERS = (
    {"core"},
    {"audit", "organisations", "jobs"},
    {"outbox"},
    {"auth"},
    {"people"},
    {"consent"},
    {"forms", "photos"},
    {"faces"},
    {"gallery"},
    {"publishing"},
    {"demo", "db"},
    {"backup"},
    {"maintenance", "health"},
    {"wiring"},
    {"main", "cli"},
)


def test_dependencies_point_down_the_layers():
    rank = {package: level for level, packages in enumerate(LAYERS) for package in packages}
    packages = {_package(module) for module in _graph() if module != "consentlens"}
    assert packages == set(rank), "a room is missing from LAYERS (and from the README)"
    upward = sorted(
        line
        for (source, target), lines in _package_edges().items()
        if rank[target] >= rank[source]
        for line in lines
    )
    assert upward == []
