"""How an emulated handset behaves: the settings ``harness emulate`` passes to each phone."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PhoneOptions:
    """How an emulated handset behaves; every field has a CLI flag on ``harness emulate``."""

    theme: str | None = None
    accent: str | None = None
    os_version: str | None = None
    animation_ms: int = 250
    toasts: bool = False
    toast_seed: int | None = None
    toast_interval: float = 6.0
    toast_duration: float = 1.5
    signin_delay: float = 0.8
    sync_delay: float = 1.5
    boot_time: float = 1.5
    start_screen: str | None = None
    serial: str | None = None
    index: int = 0
    font: str | None = None  # a TrueType file every text is drawn with (None: the bundled font)
    clock: str | None = None  # the status bar's time, HH:MM (None: the host's): the same pixels at any hour
