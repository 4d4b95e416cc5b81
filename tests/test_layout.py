"""The package's modules import one way (docs/architecture.md §6): no import cycle, not even
through imports inside functions — the four the codebase had were paid off in session 29."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "kouiki_kg"


def imports() -> dict[str, set[str]]:
    """Each module's imports of other kouiki_kg modules, wherever in the module they are."""
    modules = {".".join(f.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): f
               for f in PACKAGE.rglob("*.py")}
    found: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
                targets |= {base} | {f"{base}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kouiki_kg"):
                targets |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        found[name] = {t for t in targets if t in modules and t != name}
    return found


def test_no_import_cycles():
    graph = imports()
    assert {"kouiki_kg.app", "kouiki_kg.views.health", "kouiki_kg.validation.units"} <= set(graph)
    cycles = []

    def visit(start: str, node: str, path: list[str]) -> None:
        for target in graph[node]:
            if target == start:
                cycles.append(" → ".join(path + [start]))
            elif target not in path and target > start:  # each cycle once, from its smallest module
                visit(start, target, path + [target])

    for module in graph:
        visit(module, module, [module])
    assert cycles == []
