"""One handset of a rack and its power switch, as the inventory file says them."""

from __future__ import annotations

from dataclasses import dataclass

#: Power switches: an LCUS-style serial relay board, or a USB hub port switched by uhubctl.
POWER_KINDS = ("lcus", "uhubctl")
#: Serial-port fields of a handset (each may name a port any way ``resolve_port`` understands).
PORT_FIELDS = ("console", "modem")


@dataclass(frozen=True)
class PowerSwitch:
    """Where a handset's power is switched: a relay board channel or a USB hub port."""

    kind: str
    channel: int
    port: str | None = None  # lcus: the relay board's serial port
    hub: str | None = None   # uhubctl: the hub's USB location (``uhubctl -l HUB -p CHANNEL``)

    def describe(self) -> str:
        where = self.port if self.kind == "lcus" else f"hub {self.hub}"
        return f"{self.kind} {where} channel {self.channel}"


@dataclass(frozen=True)
class HandsetEntry:
    """One handset of the rack, as the inventory file says."""

    name: str
    profile: str
    uri: str
    console: str | None = None
    modem: str | None = None
    modem_number: str | None = None
    modem_mode: str | None = None     # auto, pdu or text (harness.modem.options)
    modem_profile: str | None = None  # auto or a vendor profile (harness.modem.quirks)
    power: PowerSwitch | None = None
    os_version: str | None = None  # overrides the profile's
    mail: str | None = None        # a Maildir where e-mailed access codes arrive
    control: str | None = None     # an emulated handset's control socket
    control_token: str | None = None  # the file (mode 0600) holding that socket's token
    tags: tuple[str, ...] = ()

    @property
    def scheme(self) -> str:
        return self.uri.split("://", 1)[0]

    @property
    def emulated(self) -> bool:
        """An ``emulator://`` entry: its handset is started on demand, not a phone on the rack."""
        from harness.handsets import starts_handset

        return starts_handset(self.uri)

    def ports(self) -> dict[str, str]:
        """The serial ports of this handset by field (console, modem, power), as written."""
        out = {f: getattr(self, f) for f in PORT_FIELDS if getattr(self, f)}
        if self.power is not None and self.power.port:
            out["power"] = self.power.port
        return out
