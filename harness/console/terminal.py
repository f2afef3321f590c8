"""``harness console``: an interactive terminal on a handset's console that lives through its reboots.

A handset's USB serial console disappears while it is off and comes back
when it boots; the session stays, says on stderr when the port went away
and when it is back, and goes on. Text is UTF-8 both ways (the console's
declared encoding). Ctrl-] or the end of stdin quits.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import threading
import tty
from contextlib import contextmanager
from typing import IO, Callable, Iterator

from harness.console.console import ENCODING, SerialConsole
from harness.errors import DeviceUnavailable
from harness.serial_port import SerialPort

QUIT = b"\x1d"  # Ctrl-]


@contextmanager
def _raw(fd: int) -> Iterator[None]:
    """Keys go to the handset one by one (no local echo, no line editing) while the terminal is a tty."""
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run_terminal(port: SerialPort, stdin: IO[bytes] | None = None,
                 stdout: IO[bytes] | None = None, stderr: IO[str] | None = None) -> int:
    """Relay stdin to the console and the console to stdout until Ctrl-] or end of input; returns 0."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    stderr = stderr or sys.stderr
    out_lock = threading.Lock()

    def show(text: str) -> None:
        with out_lock:
            stdout.write(text.encode(ENCODING, "replace"))
            stdout.flush()

    def say(event: str) -> None:
        with out_lock:
            stdout.flush()
            stderr.write(f"\r\n--- {event} ---\r\n")
            stderr.flush()

    console = SerialConsole(port, on_text=show, on_event=say).open()
    say(f"console {port} at {port.baudrate} baud, {ENCODING}; Ctrl-] quits; the session stays across reboots")
    fd = stdin.fileno()
    try:
        with _raw(fd):
            while True:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready:
                    continue
                data = os.read(fd, 1024)
                if not data or QUIT in data:
                    data = data.split(QUIT, 1)[0]
                    _send(console, data, say)
                    break
                _send(console, data, say)
    except KeyboardInterrupt:
        pass
    finally:
        console.close()
    say(f"console {port} closed")
    return 0


def _send(console: SerialConsole, data: bytes, say: Callable[[str], None]) -> None:
    """Enter goes out as CR LF, as a serial terminal sends it; while the port is away, say what was not sent."""
    if not data:
        return
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    try:
        console.send(data)
    except DeviceUnavailable:
        say(f"not sent ({len(data)} bytes): the console is away right now")
