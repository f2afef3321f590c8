"""Typed errors of the ADB layer: each says what was expected and what came."""

from __future__ import annotations

from harness.adb.protocol import AdbError, ProtocolViolation
from harness.errors import DeviceUnavailable, HarnessTimeout


class DeviceOffline(AdbError, DeviceUnavailable):
    """The device went away (closed, unplugged, powered off) or never answered CNXN."""


class Unauthorised(AdbError):
    """The device refused our key (or the user did not accept it in time)."""


class StreamRefused(AdbError):
    """The device closed an OPEN without OKAY: unknown or refused service."""


class OutputTooLarge(AdbError):
    """A service sent more than its caller allows (a flooding device, or a limit the caller should raise)."""


class AdbTimeout(AdbError, HarnessTimeout):
    """An ADB exchange did not finish in time."""


__all__ = ["AdbError", "ProtocolViolation", "DeviceOffline", "Unauthorised", "StreamRefused", "AdbTimeout", "OutputTooLarge"]


class ShortFrame(ProtocolViolation):
    """A screencap stream that closed before a whole frame came (the phone went down mid-frame)."""
