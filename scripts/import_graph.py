#!/usr/bin/env python3
"""Print the import graph between the harness's parts, one ``A -> B`` edge a line, read from the source.

A part is a sub-package (``harness.adb``) or a top-level module
(``harness.errors``). Every ``import`` counts, at module level or inside a
function, under ``TYPE_CHECKING`` too: a deferred import is still a
dependency. Nothing is imported, so a broken or heavy module is read the same.
``tests/test_layers.py`` checks the layer rules on the same graph.

    scripts/import_graph.py [--modules] [--cycles] [ROOT]

``--modules`` prints module-level edges instead; ``--cycles`` prints each
group of parts that import each other round, with the edges among them
(exit 1 when there is one).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = "harness"


def module_name(path: Path, root: Path) -> str:
    """``harness/adb/driver.py`` -> ``harness.adb.driver``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The module names one import statement names (``from a import b`` gives ``a.b`` and ``a``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:  # relative: from the module's own package, up level-1 more
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [target] + [f"{target}.{alias.name}" for alias in node.names if alias.name != "*"]


def module_graph(root: Path) -> dict[str, set[str]]:
    """Each harness module -> the harness modules it imports (names that are modules of the tree)."""
    files = {module_name(p, root): p for p in sorted((root / PACKAGE).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        edges: set[str] = set()
        for node in ast.walk(tree):
            for target in _imported(node, name, path.name == "__init__.py"):
                if target in files and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def part_of(module: str) -> str:
    """The part a module belongs to: ``harness.adb.driver`` -> ``harness.adb``; ``harness`` stays itself."""
    return ".".join(module.split(".")[:2])


def part_graph(root: Path) -> dict[str, set[str]]:
    """Edges between parts (sub-packages and top-level modules), self-edges dropped."""
    graph: dict[str, set[str]] = {}
    for module, targets in module_graph(root).items():
        source = part_of(module)
        graph.setdefault(source, set())
        graph[source] |= {part_of(t) for t in targets} - {source}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan), each sorted; [] when the graph is acyclic."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def edges_within(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """The ``A -> B`` edges between members of one cycle group: the arrows to cut."""
    return [f"{a} -> {b}" for a in sorted(group) for b in sorted(graph.get(a, ())) if b in group]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parent.parent),
                    help="the folder holding the harness package (default: this checkout)")
    ap.add_argument("--modules", action="store_true", help="module-level edges instead of part-level ones")
    ap.add_argument("--cycles", action="store_true", help="print the cycles between parts; exit 1 if any")
    args = ap.parse_args(argv)
    root = Path(args.root)
    if not (root / PACKAGE / "__init__.py").is_file():
        print(f"import_graph: no {PACKAGE}/__init__.py under {root}", file=sys.stderr)
        return 2
    graph = module_graph(root) if args.modules else part_graph(root)
    if args.cycles:
        parts = part_graph(root)
        found = cycles(parts)
        for group in found:
            print(f"cycle among {', '.join(group)}:")
            for edge in edges_within(parts, group):
                print(f"  {edge}")
        return 1 if found else 0
    for source in sorted(graph):
        for target in sorted(graph[source]):
            print(f"{source} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
