"""A GSM/LTE modem over any pyserial URL, in SMS text mode: reads the access codes that arrive by text.

A reader thread owns the port: it hands command responses to the waiting
command and routes unsolicited result codes (+CMTI ...) to their own queue,
so a URC arriving mid-command is never taken for part of a response. Bytes
are decoded as latin-1, so no byte can kill the reader.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from pathlib import Path

import serial

from harness.errors import DeviceUnavailable, HarnessTimeout
from harness.modem.at import ModemError, Sms, is_final, is_urc, parse_cmgl, parse_cnum, raise_for_final
from harness.secrets import Secret

DEFAULT_SENDERS = ("69525", "Microsoft")
DEFAULT_CODE_PATTERN = r"\b(\d{4,8})\b"


class ModemTimeout(HarnessTimeout):
    """The modem did not answer a command in time."""


class GsmModem:
    """One modem; ``wait_for_access_code`` is what two-step flows call."""

    def __init__(self, url: str, baudrate: int = 115200, timeout: float = 5.0, log_path: str | Path | None = None,
                 init: bool = True) -> None:
        self.url = url
        self.timeout = timeout
        try:
            self.port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.1, rtscts=False, dsrdtr=False)
        except (serial.SerialException, ValueError) as exc:
            raise DeviceUnavailable(f"modem {url}: cannot open: {exc}") from None
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None
        self._lines: queue.Queue[str] = queue.Queue()
        self.urcs: queue.Queue[str] = queue.Queue()
        self._pending: str | None = None
        self._expect_body = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._dead: Exception | None = None
        self._reader = threading.Thread(target=self._read_loop, name=f"modem {url}", daemon=True)
        self._reader.start()
        if init:
            self.initialise()

    # ------------------------------------------------------------------ wire
    def _logline(self, direction: str, line: str) -> None:
        if self._log is not None:
            self._log.write(f"{time.strftime('%H:%M:%S')} {direction} {line}\n")
            self._log.flush()

    def _read_loop(self) -> None:
        buf = b""
        while not self._stop.is_set():
            try:
                chunk = self.port.read(self.port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError) as exc:
                self._dead = exc
                return
            if not chunk:
                continue
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                self._route(raw.rstrip(b"\r").decode("latin-1"))

    def _route(self, line: str) -> None:
        if self._expect_body:
            self._expect_body = False
            self._logline("<<", f"[message body: {len(line)} chars]")
            self._lines.put(line)
            return
        if not line.strip():
            return
        if is_urc(line, self._pending):
            self._logline("<< urc", line)
            self.urcs.put(line)
            return
        if self._pending is None:
            self._logline("<< stray", line)
            return
        self._logline("<<", line)
        if line.startswith(("+CMGL:", "+CMGR:")):
            self._expect_body = True
        self._lines.put(line)

    def command(self, command: str, timeout: float | None = None) -> list[str]:
        """Send one AT command; its response lines (without the final OK) or a typed error."""
        timeout = timeout or self.timeout
        with self._lock:
            if self._dead is not None:
                raise DeviceUnavailable(f"modem {self.url}: port gone ({self._dead})")
            while not self._lines.empty():
                self._lines.get_nowait()
            self._pending = command
            self._expect_body = False
            self._logline(">>", command)
            try:
                self.port.write(command.encode("latin-1") + b"\r")
            except (serial.SerialException, OSError) as exc:
                raise DeviceUnavailable(f"modem {self.url}: write failed ({exc})") from None
            lines: list[str] = []
            deadline = time.monotonic() + timeout
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise ModemTimeout(f"a final result for {command}", f"{lines!r}" if lines else "nothing", timeout)
                    try:
                        line = self._lines.get(timeout=min(remaining, 0.2))
                    except queue.Empty:
                        if self._dead is not None:
                            raise DeviceUnavailable(f"modem {self.url}: port gone ({self._dead})") from None
                        continue
                    if line == command:  # echo (ATE1)
                        continue
                    if is_final(line):
                        raise_for_final(line, command)
                        return lines
                    lines.append(line)
            finally:
                self._pending = None

    # ------------------------------------------------------------------ setup
    def initialise(self, boot_timeout: float = 15.0) -> None:
        """The init that survives real modems: AT until OK, echo off, numeric errors, text mode, storage, +CMTI."""
        deadline = time.monotonic() + boot_timeout
        while True:
            try:
                self.command("AT", timeout=1.0)
                break
            except (ModemTimeout, ModemError):
                if time.monotonic() >= deadline:
                    raise ModemTimeout(f"OK to AT from the modem at {self.url}", "no OK", boot_timeout) from None
        self.command("ATE0")
        self.command("AT+CMEE=1")
        pin = self.command("AT+CPIN?")
        if not any("READY" in line for line in pin):
            raise ModemError(f"SIM not ready: {pin}")
        self.command("AT+CMGF=1")
        self.command('AT+CSCS="GSM"')
        self.command("AT+CSDH=0")
        storages = " ".join(self.command("AT+CPMS=?"))
        if '"SM"' in storages:
            self.command('AT+CPMS="SM","SM","SM"')
        modes = " ".join(self.command("AT+CNMI=?"))
        if re.search(r"\(\s*[0-9,-]*2", modes):
            self.command("AT+CNMI=2,1,0,0,0")
        else:
            self.command("AT+CNMI=1,1,0,0,0")

    def own_numbers(self) -> list[str]:
        """The SIM's own number(s) by AT+CNUM; empty when the SIM does not store it (many don't)."""
        try:
            return parse_cnum(self.command("AT+CNUM"))
        except ModemError:
            return []  # +CME ERROR: operation not supported, or plain ERROR: the number is unknown, not a fault

    # ------------------------------------------------------------------ messages
    def list_messages(self, status: str = "ALL") -> list[Sms]:
        return parse_cmgl(self.command(f'AT+CMGL="{status}"', timeout=max(self.timeout, 10)))

    def delete(self, index: int) -> None:
        self.command(f"AT+CMGD={index}")

    def wait_for_access_code(self, sender: str | None = None, pattern: str = DEFAULT_CODE_PATTERN,
                             since: float | None = None, timeout: float = 60.0, poll: float = 1.0) -> Secret:
        """The code in the newest matching SMS received after ``since``; deletes the matching messages it read."""
        regex = re.compile(pattern)
        senders = (sender,) if sender else DEFAULT_SENDERS
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            messages = self.list_messages("ALL")
            seen = len(messages)
            matching = []
            for sms in messages:
                if not any(s.lower() in sms.sender.lower() for s in senders):
                    continue
                if since is not None and sms.timestamp is not None and sms.timestamp.timestamp() < since - 2:
                    continue
                found = regex.search(sms.body)
                if found:
                    matching.append((sms, found.group(1) if found.groups() else found.group(0)))
            if matching:
                newest = max(matching, key=lambda m: (m[0].timestamp.timestamp() if m[0].timestamp else 0, m[0].index))
                for sms, _ in matching:
                    self.delete(sms.index)
                return Secret(newest[1])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HarnessTimeout(f"an SMS from {' or '.join(senders)} matching {pattern}",
                                     f"{seen} stored message(s), none matching", timeout)
            try:
                self.urcs.get(timeout=min(poll, remaining))  # a +CMTI wakes us early; else poll CMGL
            except queue.Empty:
                pass

    def close(self) -> None:
        self._stop.set()
        try:
            self.port.close()
        except Exception:
            pass
        self._reader.join(timeout=2)
        if self._log is not None:
            self._log.close()
