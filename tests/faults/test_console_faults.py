"""Fault matrix: a handset's console that goes away (reboots) and speaks UTF-8, tried from outside.

* ``harness console`` keeps its session while the handset reboots: it says on
  stderr that the port went away and that it is back, relays typing before and
  after, and quits cleanly on Ctrl-] (no thread traceback);
* the console log keeps every line up to the port going away, in UTF-8 as the
  console speaks it.
"""

from __future__ import annotations

import os

from faultlab import FaultLab, wait_until

from harness.console import SerialConsole
from harness.serial_port import SerialPort

QUICK = ("--animation-ms", "0", "--boot-time", "0.3", "--signin-delay", "0.1")
#: Deadline of the whole terminal session below (two boots of 0.3 s, typing, quitting), with room for a loaded machine.
SESSION_DEADLINE = 60.0


def test_harness_console_keeps_its_session_across_a_reboot(fault: FaultLab) -> None:
    handset = fault.emulate("--profile", "lumia-520", *QUICK)
    keyboard, terminal = os.openpty()  # the user's terminal: keys typed on one side, the command reads the other
    try:
        term = fault.start("console", "--port", handset.endpoints["console"], stdin=terminal)
    finally:
        os.close(terminal)

    def type_line(text: str) -> None:
        os.write(keyboard, text.encode() + b"\r")  # Enter on a terminal in raw mode

    def wait_out(needle: str, count: int = 1, on: str = "stdout") -> None:
        so_far = term.stdout_so_far if on == "stdout" else term.stderr_so_far
        wait_until(lambda: so_far().count(needle) >= count, 20, f"{count}x {needle!r} on {on}",
                   lambda: (term.stdout_so_far()[-600:], term.stderr_so_far()[-600:]))

    try:
        wait_out("Ctrl-] quits", on="stderr")
        wait_out("boot: complete")             # the boot before we came, held for us by the port
        type_line("uptime")
        wait_out("up ")
        type_line("reboot")
        wait_out("went away", on="stderr")
        wait_out("is back", on="stderr")
        wait_out("boot: complete", count=2)
        type_line("getprop ro.serialno")
        wait_out(handset.endpoints["serial"])  # typing reaches the handset after the reboot
        os.write(keyboard, b"\x1d")            # Ctrl-]
        run = term.wait(SESSION_DEADLINE)
    finally:
        os.close(keyboard)
    assert not run.timed_out and run.rc == 0, run.describe()
    assert "Traceback" not in run.stderr and "SerialException" not in run.stderr, run.describe()
    assert run.stderr.index("went away") < run.stderr.index("is back") < run.stderr.index("closed")


def test_console_log_is_utf8_as_the_console_speaks_it(fault: FaultLab, tmp_path) -> None:
    handset = fault.emulate("--profile", "lumia-520", *QUICK)
    log = tmp_path / "console.log"
    console = SerialConsole(SerialPort(handset.endpoints["console"]), log_path=log).open()
    try:
        console.expect("boot: complete", timeout=10)
        typed = "héllo ••••00 ünïcode"
        console.send_line(typed)                     # the console echoes what it is sent
        console.expect(typed + "\r\n", timeout=10)
        console.expect("unknown command", timeout=10)
    finally:
        console.close()
    text = log.read_bytes().decode("utf-8")  # strict: one declared encoding for the whole file
    assert "héllo ••••00 ünïcode" in text and "â¢" not in text


def test_console_keeps_the_last_lines_before_power_off(fault: FaultLab, tmp_path) -> None:
    """The port drains before it goes away: the line the handset printed last before power-off is logged."""
    handset = fault.emulate("--profile", "lumia-520", *QUICK)
    log = tmp_path / "console.log"
    console = SerialConsole(SerialPort(handset.endpoints["console"]), log_path=log).open()
    try:
        console.expect("boot: complete", timeout=10)
        for round_ in range(3):
            console.send_line("reboot")
            wait_until(lambda: console.gaps > round_, 20, f"the console to come back after reboot {round_ + 1}",
                       lambda: console.tail(5))
            console.expect("boot: complete", timeout=20)
    finally:
        console.close()
    lines = log.read_text(encoding="utf-8").splitlines()
    offs = [i for i, line in enumerate(lines) if "power: off" in line]
    gaps = [i for i, line in enumerate(lines) if "console gap" in line]
    assert len(offs) == 3 and len(gaps) == 3, lines[-30:]
    assert all(off < gap for off, gap in zip(offs, gaps)), lines[-30:]
