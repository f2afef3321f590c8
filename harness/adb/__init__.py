"""The Android Debug Bridge, host side, over any transport."""

from harness.adb.connection import AdbConnection
from harness.adb.errors import (
    AdbError, AdbTimeout, DeviceOffline, OutputTooLarge, ProtocolViolation, StreamRefused, Unauthorised,
)
from harness.adb.driver import AdbHandset, DeviceGone

__all__ = ["AdbConnection", "AdbError", "AdbTimeout", "DeviceOffline", "ProtocolViolation", "StreamRefused", "OutputTooLarge",
           "Unauthorised", "AdbHandset", "DeviceGone"]
