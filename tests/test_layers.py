"""The pipeline's layers, read from the imports: a stage never imports a later one, no module
imports another through a package face, and module-level imports have no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parents[1] / "grader"

#: Lower stages first; a module may import its own rank or a lower one. Gaps leave room.
RANKS = {
    "errors": 0,
    "_internal": 0,
    "math": 10,
    "rubric": 20,
    "input": 30,
    "document": 32,
    "submission": 34,
    "answers": 36,
    "simulation": 40,
    "checking": 50,
    "scoring": 60,
    "gradebook": 80,
    "reports": 90,
    # Running the pipeline over a class writes the gradebook and the reports; the authoring tools
    # (seal, rubric tests, quick check) run the pipeline too.
    "grading": 95,
    "authoring": 95,
    "service": 100,
    "cli": 110,
    "__init__": 110,
    "__main__": 110,
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(GRADER.rglob("*.py")):
        parts = path.relative_to(GRADER.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def _stage(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _imports(path: Path, *, top_level_only: bool) -> list[tuple[str, list[str], int]]:
    """(module, names imported from it, line) for every ``grader`` import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.split(".")[0] == "grader":
            found.append((node.module, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names if alias.name.split(".")[0] == "grader"]
    return found


def _target(module: str, names: list[str]) -> list[str]:
    """The modules an import statement loads: ``from pkg import mod`` loads ``pkg.mod``."""
    if module in PACKAGES and names and all(f"{module}.{name}" in MODULES for name in names):
        return [f"{module}.{name}" for name in names]
    return [module]


def test_every_stage_has_a_rank() -> None:
    assert {_stage(name) for name in MODULES} <= set(RANKS), "give the new package a rank in RANKS"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_stage_imports_a_later_one(module: str) -> None:
    rank = RANKS[_stage(module)]
    wrong = [
        f"line {line}: {target} (stage {_stage(target)!r}, rank {RANKS[_stage(target)]})"
        for imported, names, line in _imports(MODULES[module], top_level_only=False)
        for target in _target(imported, names)
        if RANKS[_stage(target)] > rank
    ]
    assert not wrong, f"{module} (rank {rank}) imports a later stage:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_import_modules_not_package_faces(module: str) -> None:
    wrong = [
        f"line {line}: from {imported} import {', '.join(names)}"
        for imported, names, line in _imports(MODULES[module], top_level_only=False)
        if imported in PACKAGES and _target(imported, names) == [imported]
    ]
    assert not wrong, f"{module} imports through a package face:\n" + "\n".join(wrong)


@pytest.mark.parametrize("package", sorted(PACKAGES - {"grader"}))
def test_package_faces_are_empty(package: str) -> None:
    body = ast.parse(MODULES[package].read_text(encoding="utf-8")).body
    code = [node for node in body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    assert not code, f"{package}/__init__.py should hold only a docstring (import the modules directly)"


def test_module_level_imports_have_no_cycle() -> None:
    graph = {
        name: {t for imported, names, _ in _imports(path, top_level_only=True) for t in _target(imported, names) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
