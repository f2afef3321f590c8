"""Modem profiles: what each vendor's modem needs at set-up and what it mixes into its answers.

One module per vendor, each with one ``PROFILE``. The driver picks the
profile from what the modem says it is (``AT+CGMI``, else ``ATI``) or from
the inventory's ``modem_vendor``; a modem nobody recognises gets the generic
profile and the log says what it answered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """One vendor's habits, as data the driver reads."""

    name: str
    #: Words (lower case) in the answer to AT+CGMI or ATI that name the vendor.
    makers: tuple[str, ...] = ()
    #: Commands sent after the standard set-up; one the modem refuses is logged, not fatal.
    setup: tuple[str, ...] = ()
    #: Unsolicited lines the vendor mixes into answers (beyond 27.005/27.007's own).
    urcs: tuple[str, ...] = ()
    #: Final result lines that mean ERROR on this vendor's modems.
    errors: tuple[str, ...] = ()
    #: Message storages in order of preference, for all three +CPMS memories.
    storages: tuple[str, ...] = ("SM", "ME", "MT")
    #: How many +CNMI parameters the modem takes (Cinterion refuses a 5th).
    cnmi_params: int = 5
    #: Lines a modem prints when it has (re)started: after one, it has forgotten its set-up.
    restart: tuple[str, ...] = ("RDY", "+CFUN: 1", "+CPIN: READY")


def profiles() -> dict[str, Profile]:
    """Every known profile by name (imported here so the vendor modules stay plain data)."""
    from harness.modem.quirks import cinterion, generic, huawei, quectel, simcom

    return {m.PROFILE.name: m.PROFILE for m in (generic, quectel, huawei, simcom, cinterion)}


def by_name(name: str) -> Profile:
    """The profile called ``name``; ValueError naming the choices."""
    known = profiles()
    try:
        return known[name.lower()]
    except KeyError:
        raise ValueError(f"modem vendor {name!r}: expected one of {', '.join(known)}") from None


def identify(answer: str) -> Profile | None:
    """The profile whose vendor ``answer`` (AT+CGMI's or ATI's lines) names; None for an unknown modem."""
    text = answer.lower()
    for profile in profiles().values():
        if any(word in text for word in profile.makers):
            return profile
    return None
