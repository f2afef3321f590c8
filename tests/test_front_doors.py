"""The command line is a front door: it imports the layers, and no layer imports it back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import harness

PACKAGE = Path(harness.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names; relative imports resolved against its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(("harness",) + path.relative_to(PACKAGE).parent.parts)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            out.update(f"{base}.{alias.name}" for alias in node.names)
            out.add(base)
    return out


def test_no_module_outside_the_command_line_imports_it() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "cli" or relative == Path("__main__.py"):
            continue
        bad = sorted(m for m in _imports(path) if m == "harness.cli" or m.startswith("harness.cli."))
        if bad:
            offenders.append(f"harness/{relative}: {', '.join(bad)}")
    assert not offenders, "layers must not import the command line:\n" + "\n".join(offenders)


def test_python_dash_m_harness_cli_still_runs_the_command() -> None:
    run = subprocess.run([sys.executable, "-m", "harness.cli", "--version"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("harness ")
