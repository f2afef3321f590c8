"""A handset's serial debug console: expect-style reads and a log that survives reboots."""

from harness.console.console import ConsoleTimeout, SerialConsole, console_port

__all__ = ["ConsoleTimeout", "SerialConsole", "console_port"]
