"""`harness signin` from the command line: exit 0 when signed in, 3 with the failure screen named; the password
comes from the environment, never an argument, and never shows in the output."""

from __future__ import annotations

import os
import subprocess
import sys


def _signin(tmp_path, password: str, account: str = "bob@outlook.com") -> subprocess.CompletedProcess:
    env = {**os.environ, "LAB_PW": password}
    return subprocess.run([sys.executable, "-m", "harness", "signin", "--handset",
                           "emulator://lumia-520?animation_ms=0&signin_delay=0.2", "--account", account,
                           "--password-env", "LAB_PW", "--artifacts", str(tmp_path)],
                          capture_output=True, text=True, timeout=240, env=env)


def test_signin_succeeds_and_fails_with_the_screen_named(tmp_path) -> None:
    ok = _signin(tmp_path / "ok", "swordfish-2014")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "signed in as bob@outlook.com" in ok.stdout and "swordfish-2014" not in ok.stdout + ok.stderr
    (run,) = [p for p in (tmp_path / "ok").iterdir() if p.is_dir()]
    assert "account: signed in" in (run / "emulator.log").read_text(encoding="utf-8")  # what the handset did
    assert "account: signed in" in (run / "console.log").read_text(encoding="utf-8")   # what its console printed
    bad = _signin(tmp_path / "bad", "not-the-password-42")
    assert bad.returncode == 3
    assert "the handset shows wrong_password" in bad.stderr and "not-the-password-42" not in bad.stdout + bad.stderr
