"""The layers, read from the source: who may import whom (``scripts/import_graph.py`` builds the graph).

Nothing is imported: every ``import`` statement of the harness package counts,
at module level, inside functions and under ``TYPE_CHECKING``, since a deferred
import is a dependency all the same.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _import_graph() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


graph = _import_graph()
MODULES: dict[str, set[str]] = graph.module_graph(ROOT)


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _imports_from(package: str, forbidden: list[str]) -> list[str]:
    """``importer -> imported`` for every module of ``package`` that imports a module of a forbidden package."""
    return sorted(f"{source} -> {target}" for source, targets in MODULES.items() if _under(source, package)
                  for target in targets if any(_under(target, f) for f in forbidden))


def test_the_graph_is_read_from_the_source() -> None:
    # known edges, checked by hand in the source, so an empty graph cannot pass the rules below
    assert "harness.adb.connection" in MODULES["harness.adb.driver"]
    assert "harness.emulator.adb_frame" in MODULES["harness.emulator.adb_device"]
    assert len(MODULES) > 50


@pytest.mark.parametrize("driver", ["harness.adb", "harness.adb_wire", "harness.transport", "harness.modem", "harness.console", "harness.robot",
                                    "harness.camera",
                                    "harness.vision", "harness.handsets"])
def test_the_emulator_imports_no_driver_code(driver: str) -> None:
    assert _imports_from("harness.emulator", [driver]) == []


def test_vision_knows_nothing_of_the_emulator() -> None:
    assert _imports_from("harness.vision", ["harness.emulator"]) == []


def test_no_cycle_between_packages() -> None:
    # a package-level graph: sub-packages and top-level modules (harness.errors) are its nodes
    parts = graph.part_graph(ROOT)
    assert [graph.edges_within(parts, group) for group in graph.cycles(parts)] == []


def test_no_layer_imports_the_command_line() -> None:
    # harness/cli is a front door: it imports the layers and the layers never import it back
    # (harness.__main__, ``python -m harness``, is the door's own entry)
    back = [edge for edge in _imports_from("harness", ["harness.cli"])
            if not _under(edge.split(" -> ")[0], "harness.cli") and not edge.startswith("harness.__main__ ")]
    assert back == []


def test_no_module_is_over_400_lines() -> None:
    # the project's rule for legible modules; a module that outgrows it is split by concept, not trimmed
    long = {str(p.relative_to(ROOT)): n for p in sorted((ROOT / "harness").rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}


def _flags_in_raised_messages(path: Path) -> list[str]:
    """``file:line: text`` for each string in a ``raise`` statement that names a command-line flag (``--x``)."""
    import ast
    import re

    flag = re.compile(r"(?:^|[\s(\[`'\"])--[A-Za-z]")
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [f"{path.relative_to(ROOT)}:{sub.lineno}: {sub.value!r}"
            for node in ast.walk(tree) if isinstance(node, ast.Raise) and node.exc is not None
            for sub in ast.walk(node.exc)
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and flag.search(sub.value)]


def test_only_the_front_doors_name_flags_in_errors() -> None:
    # The library raises typed errors with the facts; the command line and the pytest plugin word them with
    # their own option names (harness/cli/wording.py), so a library error never points to a flag that the
    # caller (a lab's script, another front door) does not have.
    doors = {"cli", "pytest_plugin"}
    naming = [hit for p in sorted((ROOT / "harness").rglob("*.py"))
              if p.relative_to(ROOT / "harness").parts[0] not in doors for hit in _flags_in_raised_messages(p)]
    assert naming == []
    # the check sees what it is meant to see: the front doors do name flags in their errors
    assert any(_flags_in_raised_messages(p) for p in sorted((ROOT / "harness" / "cli").glob("*.py")))
