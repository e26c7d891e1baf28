"""The shape of the code: the lower apps never reach up into the project, the plumbing sits below
every app, and no two modules import each other (lazily inside a function included)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

APPS = ("infra", "ingestion", "retrieval", "llm", "kbqa")
LOWER = ("ingestion", "retrieval", "llm")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = [p for app in APPS for p in (REPO / app).rglob("*.py") if "migrations" not in p.parts]
    modules = {_module_name(p): p for p in files}
    return {
        name: {m for m in _imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_lower_apps_import_nothing_from_the_project():
    graph = _graph()
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] in LOWER
        for target in targets
        if target.split(".")[0] == "kbqa"
    )
    assert upward == []


def test_plumbing_imports_no_app():
    graph = _graph()
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.startswith("infra")
        for target in targets
        if target.split(".")[0] != "infra"
    )
    assert upward == []


def test_no_two_modules_import_each_other():
    graph = _graph()
    cycles = sorted(
        f"{a} <-> {b}" for a, targets in graph.items() for b in targets if a < b and a in graph[b]
    )
    assert cycles == []
