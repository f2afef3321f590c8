"""The emulated handset's debug console on a pty: boot log, a prompt, a few commands, live log lines.

Like a phone's USB serial console, the port disappears when the handset
powers off and comes back when it boots; a stable symlink names it, the way
udev's /dev/serial/by-id names a real one.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import threading
import time
from typing import Any

from harness.emulator.pty_port import FAULT_USAGE, PtyPort, apply_fault
from harness.emulator.transport_service import CommandHandler, takes

HELP = "commands: help, getprop [NAME], uptime, reboot"
#: The console speaks UTF-8 both ways (the masked "•" of the sign-in screens is not ASCII).
ENCODING = "utf-8"
#: How long the port waits, when the handset powers off, for the reader to take what is still queued.
DRAIN_SECONDS = 2.0
MAX_LINE = 4096


class EmulatedConsole:
    def __init__(self, phone: Any) -> None:
        self.phone = phone
        self.prompt = phone.profile.console.prompt
        self._dir = tempfile.mkdtemp(prefix=f"harness-console-{phone.serial}-")
        self.path = os.path.join(self._dir, "console")
        self._port: PtyPort | None = None
        self._buf = b""
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self.noise = False

    def start(self) -> dict[str, Any]:
        self._attach()
        self.phone.add_log_listener(self._on_log)
        return {"console": self.path}

    def _attach(self) -> None:
        with self._lock:
            if self._port is not None:
                return
            self._port = PtyPort("console", self._on_data)
            self._port.start()
            tmp = self.path + ".new"
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(self._port.path, tmp)
            os.replace(tmp, self.path)
            self._started = time.monotonic()

    def _detach(self, drain: float = 0.0) -> None:
        with self._lock:
            port, self._port = self._port, None
            if port is not None:
                try:  # the name goes first: a closed pty's number is soon another program's port
                    os.unlink(self.path)
                except OSError:
                    pass
        if port is None:
            return
        if drain > 0:  # the old port drains on its own: the next boot's port must not wait behind it (below)
            threading.Thread(target=port.stop, kwargs={"drain": drain}, name="console-drain", daemon=True).start()
        else:
            port.stop()

    def _write(self, text: str) -> None:
        port = self._port
        if port is not None:
            port.write(text.encode(ENCODING, "replace"))

    def _on_log(self, line: str) -> None:
        message = line.split(" ", 1)[1] if " " in line else line
        if message.startswith("power: off"):
            self._write(f"[{time.monotonic() - self._started:9.3f}] {message}\r\n")
            # what the reader has not read yet would die with the pty. The drain runs beside the log's one dispatch
            # thread: waiting in it held back the next boot's "powering on", so after a re-flash ADB was up (0.3 s
            # boot) while the console stayed gone for the drain's 2 s (a rack test saw "No such file" for it)
            self._detach(drain=DRAIN_SECONDS)
            return
        if message.startswith("boot:") and "powering on" in message:
            self._attach()
        self._write(f"[{time.monotonic() - self._started:9.3f}] {message}\r\n")
        if message == "boot: complete":
            self._write(self.prompt)

    def _on_data(self, data: bytes) -> None:
        self._buf += data
        while b"\r" in self._buf or b"\n" in self._buf:
            cut = min(i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0)
            raw, self._buf = self._buf[:cut], self._buf[cut + 1:]
            line = raw.decode(ENCODING, "replace").strip()
            if not line:
                continue
            self._write(line + "\r\n")  # echo
            self._run(line)
        if len(self._buf) > MAX_LINE:
            self._buf = b""
            self._write("line too long\r\n" + self.prompt)

    def _run(self, line: str) -> None:
        try:
            argv = shlex.split(line)
        except ValueError:
            argv = line.split()
        name, args = argv[0], argv[1:]
        if name == "help":
            self._write(HELP + "\r\n")
        elif name == "getprop":
            props = self.phone.getprop()
            if args:
                self._write(props.get(args[0], "") + "\r\n")
            else:
                self._write("".join(f"[{k}]: [{v}]\r\n" for k, v in sorted(props.items())))
        elif name == "uptime":
            self._write(f"up {time.monotonic() - self._started:.1f} s\r\n")
        elif name == "reboot":
            self._write("rebooting...\r\n")
            threading.Thread(target=self.phone.reboot, daemon=True).start()
            return
        else:
            self._write(f"{name}: unknown command ({HELP})\r\n")
        self._write(self.prompt)

    def stop(self) -> None:
        self._detach()
        for remove, path in ((os.unlink, self.path), (os.rmdir, self._dir)):
            try:
                remove(path)
            except OSError:
                pass

    def commands(self) -> dict[str, CommandHandler]:
        def vanish(req: dict[str, Any]) -> dict[str, Any]:
            self._detach()
            seconds = float(req.get("seconds", 1.0))
            threading.Timer(seconds, self._attach).start()
            return {"vanished_for": seconds}
        return {"console_vanish": takes("[seconds=1]")(vanish),
                "console_fault": takes(FAULT_USAGE)(lambda req: apply_fault(self._port, req))}


def console_service(phone: Any, options: dict[str, Any]) -> EmulatedConsole:
    return EmulatedConsole(phone)
