"""The Handset API driven over an ADB connection: the same driver for rack phones and the emulated handset.

It knows connections, not URIs: ``harness.handsets.adb_tcp`` and ``adb_usb`` give it
a way to open one (again, after a reboot) over their transport.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

import numpy as np

from harness.adb import services
from harness.adb.connection import AdbConnection
from harness.adb.screen_stream import ScreenStream, fit
from harness.adb.errors import AdbError, AdbTimeout, DeviceOffline, ShortFrame
from harness.deadline import left
from harness.errors import HarnessError, quote_seen
from harness.secrets import Secret, SecretText, redact
from harness.handset import KEYCODES, Handset, HandsetInfo
from harness.retry import NOT_READY_ERRORS, keep_trying

T = TypeVar("T")


class DeviceGone(AdbError):
    """The device is known to be gone for good (the process behind it exited): no reconnect is tried."""


class AdbHandset(Handset):
    """Screen, input, files and shell of one device through an ADB connection.

    ``timeout`` bounds each exchange; ``reconnect_timeout`` (default: ``timeout``) is how long a dropped
    connection is retried, so a dead device costs its caller's timeout. ``gone``, when given, tells at once
    that the device cannot come back (returns why, else None); every wait is also cut to an enclosing
    ``harness.deadline.within``.
    """

    def __init__(self, open_connection: Callable[[], AdbConnection], description: str, timeout: float = 10.0,
                 reconnect_timeout: float | None = None, gone: Callable[[], str | None] | None = None) -> None:
        self._open = open_connection
        self.description = description
        self.timeout = timeout
        self.reconnect_timeout = timeout if reconnect_timeout is None else reconnect_timeout
        self.gone = gone
        self.conn = open_connection()
        self._info: HandsetInfo | None = None
        #: Times the device dropped the connection and was connected to again (a restart the harness did not
        #: ask for: a reset, an update, a power cycle from elsewhere); a run's recording puts each on its timeline.
        self.reconnects = 0
        self._reconnect_listeners: list[Callable[[], None]] = []

    def _reconnect(self) -> None:
        """The device went away (a reboot it started itself, a reset, a cable): connect again when it is back."""
        self.conn.close()
        budget = left(self.reconnect_timeout) or 0.0
        if budget == 0:
            raise DeviceOffline(f"{self.description} went offline and no time was left to connect again") from None
        try:
            self._connect_again(budget)
        except NOT_READY_ERRORS as last:
            raise DeviceOffline(f"{self.description} is offline and did not come back within {budget:g}s ({last})") from last
        self.reconnects += 1
        for listener in list(self._reconnect_listeners):
            listener()

    def watch_reconnects(self, listener: Callable[[], None]) -> bool:
        self._reconnect_listeners.append(listener)
        return True

    def _attempt(self) -> AdbConnection:
        why = self.gone() if self.gone is not None else None
        if why:
            raise DeviceGone(f"{self.description} is gone: {why}")
        return self._open()

    def _connect_again(self, timeout: float) -> None:
        """Open a fresh connection, retrying while the device is still away; its last failure at the deadline."""
        self.conn = keep_trying(self._attempt, timeout)
        self._info = None

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one exchange; if the device dropped the connection, reconnect once and run it again."""
        try:
            return fn()
        except DeviceOffline:
            self._reconnect()
            return fn()

    def _call_once(self, fn: Callable[[], T]) -> T | None:
        """Run an exchange that must not happen twice (input); None when the device dropped it midway.

        A connection already known dead is replaced first (nothing was sent on it). A device that drops
        the connection while taking the command may have acted on it - a tap on "reset" reboots the
        phone before it answers - so the command is not sent again: a replayed tap would land on the
        next screen. As in ``_call``, the device must come back within ``reconnect_timeout``.
        """
        if self.conn._dead is not None:
            self._reconnect()
        try:
            return fn()
        except DeviceOffline:
            self._reconnect()
            return None

    # ------------------------------------------------------------------ identity
    @property
    def info(self) -> HandsetInfo:
        if self._info is None:
            props = self.getprops()
            size = self.shell("wm size").strip().rsplit(" ", 1)[-1]
            try:
                width, height = (int(v) for v in size.split("x"))
            except ValueError:
                raise HarnessError(f"{self.description}: 'wm size' printed {quote_seen(size, 80)}, expected WIDTHxHEIGHT") from None
            if not (0 < width * height <= services.MAX_SCREEN_PIXELS and width > 0):
                raise HarnessError(f"{self.description}: 'wm size' says {width}x{height}, expected a screen of at most "
                                   f"{services.MAX_SCREEN_PIXELS} pixels")
            self._info = HandsetInfo(serial=props.get("ro.serialno", ""), model=props.get("ro.product.model", ""),
                                     width=width, height=height, os_version=props.get("ro.build.version.release", ""),
                                     properties=props)
        return self._info

    def getprops(self) -> dict[str, str]:
        props = {}
        for line in self.shell("getprop").splitlines():
            if line.startswith("[") and "]: [" in line:
                key, _, value = line[1:].partition("]: [")
                props[key] = value.rstrip("]")
        return props

    # ------------------------------------------------------------------ screen
    def screenshot(self) -> np.ndarray:
        """The screen; the device may send no more than the screen it announced (`wm size`) holds."""
        size = (self.info.width, self.info.height)

        def take() -> np.ndarray:
            return services.screencap(self.conn, size, self.timeout)

        try:
            return self._call(take)
        except ShortFrame:
            # a phone that powers off or reboots mid-frame closes the stream early: that is no frame,
            # and the next one (or the reconnect it leads to) says whether the device is still there
            return self._call(take)

    def screenshot_png(self) -> np.ndarray:
        size = (self.info.width, self.info.height)
        return self._call(lambda: services.screencap_png(self.conn, size, self.timeout))

    def screen_stream(self, height: int | None = None) -> ScreenStream:
        """The screen as it changes (``screenrecord`` frames, a frame only when the screen changed), scaled on
        the device to at most ``height`` pixels high; it shares this connection and ends with it."""
        size = fit((self.info.width, self.info.height), height)
        return self._call(lambda: ScreenStream(self.conn, size, self.timeout))

    # ------------------------------------------------------------------ input
    def _input(self, action: str, *args: str | SecretText) -> None:
        command = SecretText("input ", action, *(part for arg in args for part in (" ", arg)))
        result = self._call_once(lambda: services.shell(self.conn, command, self.timeout))
        if result is not None and result.exit_code != 0:
            said = redact(result.stderr.decode(errors="replace").strip())
            raise HarnessError(f"{self.description}: input {action} failed: {quote_seen(said)}")

    def tap(self, x: int, y: int) -> None:
        self._input("tap", str(int(x)), str(int(y)))

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        self._input("swipe", *(str(int(v)) for v in (x1, y1, x2, y2, duration_ms)))

    def text(self, text: str | Secret) -> None:
        """Type ``text``; it stays masked down to the OPEN message, so no error can show it.

        A ``Secret`` (a password, a code) is masked everywhere; plain text (an account address) is
        masked in the service that types it but not registered, so other messages still name it.
        """
        secret = text if isinstance(text, Secret) else Secret(text, registered=False)
        # ``input text`` reads %s as a space; quote the rest for the device's shell.
        self._input("text", SecretText(secret.map(lambda v: services.quote(v.replace("%", "%%").replace(" ", "%s")))))

    def keyevent(self, code: int) -> None:
        self._input("keyevent", str(int(code)))

    def key(self, name: str) -> None:
        if name not in KEYCODES:
            raise ValueError(f"unknown key {name!r}; known: {', '.join(KEYCODES)}")
        self.keyevent(KEYCODES[name])

    # ------------------------------------------------------------------ shell and files
    def shell(self, command: str, timeout: float | None = None) -> str:
        return self.shell_result(command, timeout).text

    def shell_result(self, command: str | SecretText, timeout: float | None = None,
                     max_output: int | None = None) -> services.ShellResult:
        """Exit code, stdout and stderr; more than ``max_output`` bytes (default 16 MiB) is an error."""
        return self._call(lambda: services.shell(self.conn, command, timeout or self.timeout, max_output))

    def push(self, data: bytes, remote: str, mode: int = 0o644) -> None:
        self._call(lambda: services.push(self.conn, data, remote, mode, timeout=max(60.0, self.timeout)))

    def pull(self, remote: str) -> bytes:
        return self._call(lambda: services.pull(self.conn, remote, timeout=max(60.0, self.timeout)))

    # ------------------------------------------------------------------ power
    def reboot(self, timeout: float = 90.0) -> None:
        """Ask for a reboot and return once the device answers ADB again."""
        try:
            with self.conn.open("reboot:") as stream:
                stream.read_all(5)
        except (DeviceOffline, AdbTimeout):
            pass
        timeout = left(timeout) or 0.0
        deadline = time.monotonic() + timeout
        went_away = min(time.monotonic() + 15, deadline)
        while self.conn._dead is None and time.monotonic() < went_away:
            time.sleep(0.05)   # the device drops every connection when it goes down
        self.conn.close()
        try:
            self._connect_again(max(0.0, deadline - time.monotonic()))
        except NOT_READY_ERRORS as last:
            raise AdbTimeout(f"{self.description} to come back after reboot", str(last), timeout) from last

    def close(self) -> None:
        self.conn.close()

