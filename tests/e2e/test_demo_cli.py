"""`harness demo` keeps what it says it keeps: screenshots, the step log, and the serial and emulator logs.

The emulator's log says what the emulated handset did (boot, each screen, the
account service's events) and the console log holds what the handset's serial
console printed during the run; neither holds the password.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def _demo_password() -> str:
    secrets = tomllib.loads((ROOT / "harness" / "emulator" / "demo_secrets.toml").read_text(encoding="utf-8"))
    return secrets["account"]["primary"]["password"]  # the account the demo signs in


def test_demo_keeps_emulator_and_console_logs_without_the_password(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "harness", "demo", "--artifacts", str(tmp_path)],
                          capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "serial logs" in done.stdout
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]

    emulator_log = (run / "emulator.log").read_text(encoding="utf-8")
    events = ["boot: complete", "ui: screen setup_welcome", "ui: screen account_password",
              "account: access code sent by text to", "account: signed in", "ui: screen start"]
    positions = [emulator_log.find(e) for e in events]
    assert -1 not in positions, f"emulator.log lacks {[e for e, p in zip(events, positions) if p < 0]}:\n{emulator_log}"
    assert positions == sorted(positions), f"emulator.log has the events out of order:\n{emulator_log}"

    console_log = (run / "console.log").read_text(encoding="utf-8")
    for line in ("ui: screen two_step_code", "ui: screen start"):
        assert line in console_log, f"console.log lacks {line!r}:\n{console_log}"

    password = _demo_password().encode()
    for path in run.rglob("*"):
        if path.is_file():
            assert password not in path.read_bytes(), f"the password leaked into {path}"


def test_the_readmes_demo_signs_in_without_the_ocr_extra(tmp_path) -> None:
    """The README's first command installs the harness without ``[ocr]``: no tesserocr. The demo's flow taps list
    items (two_step_choose's "text") that are read by OCR when it is there; without it they are tapped where their
    template was found, and the demo signs in."""
    blocked = ("import sys; sys.modules['tesserocr'] = None; from harness.cli import main; "
               "sys.exit(main(['demo', '--artifacts', sys.argv[1]]))")
    done = subprocess.run([sys.executable, "-c", blocked, str(tmp_path)], capture_output=True, text=True,
                          timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "signed in as" in done.stdout, done.stdout[-2000:]
