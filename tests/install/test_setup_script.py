"""One set-up for everyone: the README's test command is what CI runs, and every skip names a package it installs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("Install everything and run the tests:", 1)[1]
    commands = [line.strip() for line in section.splitlines() if line.startswith("    ") and line.strip()]
    assert commands, "the README has no indented command after 'Install everything and run the tests:'"
    return commands[0]


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    command = _readme_test_command()
    assert command.startswith("scripts/setup && "), f"the README's test command does not run the set-up: {command}"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert command in lines, f".ci/run does not run the README's command {command!r}; it runs {lines}"
    assert lines[-1] == command, f"the README's command is not what .ci/run ends with: {lines[-1]!r}"


def test_every_skipped_program_names_a_package_the_setup_installs() -> None:
    listed = subprocess.run([str(ROOT / "scripts" / "setup"), "--list-debian-packages"], capture_output=True,
                            text=True, timeout=30, check=True).stdout.split()
    assert {"adb", "ser2net"} <= set(listed), listed
    named: dict[str, Path] = {}
    for path in (ROOT / "tests").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for program, reason in re.findall(r'skipif\(\s*shutil\.which\("([^"]+)"\) is None,\s*reason="([^"]*)"', text):
            assert "apt-get install " in reason, f"{path}: the skip for a missing {program} does not name its package"
        for pkg in re.findall(r"apt-get install ([a-z0-9][a-z0-9.+-]*)", text):
            named[pkg] = path
    assert named, "no skip reason names a Debian package (apt-get install NAME)"
    for pkg, path in named.items():
        assert pkg in listed, f"{path} names apt-get install {pkg}, which scripts/setup does not install"
