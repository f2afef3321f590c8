"""The one Handset API that flows are written against.

Backends (ADB over USB or TCP today) implement it; flows never know which
backend, or whether the phone is emulated.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from harness.errors import HarnessError
from harness.secrets import Secret

#: Hardware keys of a Windows Phone, mapped to Android key codes (what ADB's
#: ``input keyevent`` takes). ``start`` is the Windows key, i.e. HOME;
#: ``delete`` and ``enter`` are the soft keyboard's backspace and enter.
KEYCODES: dict[str, int] = {"back": 4, "start": 3, "search": 84, "power": 26, "delete": 67, "enter": 66}


class NoScreenStream(HarnessError):
    """The phone gives no frame stream (no ``screenrecord``, or not one that gives frames): take screenshots."""


@dataclass(frozen=True)
class HandsetInfo:
    """What a backend knows about the phone it drives."""

    serial: str
    model: str
    width: int
    height: int
    os_version: str = ""
    properties: dict[str, str] = field(default_factory=dict, compare=False)


class Handset(ABC):
    """A phone that can be looked at and touched."""

    @property
    @abstractmethod
    def info(self) -> HandsetInfo:
        """Identity and screen size of the phone."""

    @abstractmethod
    def screenshot(self) -> np.ndarray:
        """The current screen as an RGB ``uint8`` array of shape (height, width, 3)."""

    @abstractmethod
    def tap(self, x: int, y: int) -> None:
        """Tap at device pixel (x, y)."""

    @abstractmethod
    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        """Swipe from (x1, y1) to (x2, y2) in device pixels."""

    @abstractmethod
    def text(self, text: "str | Secret") -> None:
        """Type text into the focused field; a ``Secret`` must stay masked in every error and log."""

    @abstractmethod
    def key(self, name: str) -> None:
        """Press a hardware key: one of ``KEYCODES`` (back, start, search, power, delete, enter)."""

    @abstractmethod
    def reboot(self) -> None:
        """Restart the phone and return once it is reachable again."""

    def screen_stream(self, height: int | None = None) -> Any:
        """The screen as it changes, pushed by the phone (``next_frame``, ``ended``, ``close``), at most ``height``
        pixels high; None (the default) when this kind of handset cannot push frames: take screenshots."""
        return None

    def watch_reconnects(self, listener: Callable[[], None]) -> bool:
        """Have ``listener`` called the moment this handset has dropped its link and been connected to again (a
        restart nobody here asked for: a reset, an update, a power cycle from elsewhere), so a run that is killed
        right after still has it in its step log. False (the default) when this kind of handset keeps no link
        that comes back."""
        return False

    def close(self) -> None:
        """Release the connection (no-op by default)."""

    def __enter__(self) -> "Handset":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
