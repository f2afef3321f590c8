"""The modem settings a person gives (CLI flags, inventory fields) turned into the driver's arguments.

``mode``: auto (PDU mode where the modem offers it, else text mode), pdu or
text. ``profile``: auto (the vendor ``AT+CGMI``/``ATI`` names, generic when
unknown) or a vendor's profile by name (``harness.modem.quirks``), for a
modem that names itself wrongly or not at all. A value outside the choices
is a one-line error naming the setting and the choices.
"""

from __future__ import annotations

import argparse
from typing import Any

MODES = ("auto", "pdu", "text")


def profiles() -> tuple[str, ...]:
    """``auto`` and every vendor profile's name."""
    from harness.modem.quirks import profiles as known

    return ("auto", *known())


def driver_options(mode: str | None = None, profile: str | None = None, where: str = "modem") -> dict[str, Any]:
    """``GsmModem`` keyword arguments for ``mode`` and ``profile`` (None or "auto": let the driver find out)."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"{where} mode {mode!r}: expected one of {', '.join(MODES)}")
    if profile is not None and profile not in profiles():
        raise ValueError(f"{where} profile {profile!r}: expected one of {', '.join(profiles())}")
    return {"mode": None if mode in (None, "auto") else mode, "vendor": None if profile in (None, "auto") else profile}


def add_modem_options(parser: argparse.ArgumentParser) -> None:
    """``--modem-mode`` and ``--modem-profile``; unset, the inventory's handset entry (then auto) decides."""
    parser.add_argument("--modem-mode", choices=MODES, help="read messages in PDU or text mode (default: the "
                        "inventory's modem_mode, else auto: PDU mode where the modem offers it)")
    parser.add_argument("--modem-profile", choices=profiles(), help="the modem's vendor profile (default: the "
                        "inventory's modem_profile, else auto: from what AT+CGMI/ATI answer)")


def chosen_options(args: argparse.Namespace, entry: Any = None) -> dict[str, Any]:
    """The driver's arguments from the flags, falling back on an inventory ``entry``'s fields."""
    mode = getattr(args, "modem_mode", None) or getattr(entry, "modem_mode", None)
    profile = getattr(args, "modem_profile", None) or getattr(entry, "modem_profile", None)
    return driver_options(mode, profile)
