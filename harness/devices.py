"""Opening a handset from a URI, the same way for real and emulated phones.

``emulator://PROFILE?theme=light&toasts=1`` starts ``harness emulate`` as a child
process and then reaches it exactly like a rack phone: over ADB (TCP), with its
console, modem and relay on their serial ports. ``adb-tcp://HOST:PORT`` and
``adb-usb://SERIAL`` reach real phones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from harness.deadline import left
from harness.errors import HarnessError
from harness.handset import Handset
from harness.profiles import Profile, load_profile

#: emulator:// query keys -> ``harness emulate`` flags (value-less flags map to None).
EMULATOR_QUERY = {
    "theme": "--theme", "accent": "--accent", "os_version": "--os-version", "os": "--os-version",
    "animation_ms": "--animation-ms", "toasts": "--toasts", "toast_seed": "--toast-seed",
    "toast_interval": "--toast-interval", "boot_time": "--boot-time", "signin_delay": "--signin-delay",
    "screen": "--screen", "accounts": "--accounts", "modem_number": "--modem-number", "serial": "--serial",
    "mail_dir": "--mail-dir", "adb_maxdata": "--adb-maxdata", "font": "--font", "modem_vendor": "--modem-vendor",
}
_FLAGS = {"--toasts"}
DEFAULT_EMULATOR = "emulator://lumia-930"


class HandsetUriError(HarnessError, ValueError):
    """A handset URI that cannot be understood; says which part is wrong."""


@dataclass
class OpenedHandset:
    """A handset plus what came with it (its profile, its serial ports, the emulator child)."""

    uri: str
    handset: Handset
    profile: Profile | None = None
    endpoints: dict[str, Any] = field(default_factory=dict)
    emulator: Any = None

    lease: Any = None

    @property
    def emulated(self) -> bool:
        """True when a lab control socket is at hand (a started emulator or an emulated rack handset)."""
        return self.emulator is not None or "control" in self.endpoints

    def close(self) -> None:
        try:
            self.handset.close()
        finally:
            if self.emulator is not None:
                self.emulator.stop()
            if self.lease is not None:
                self.lease.release()


def emulator_args(query: dict[str, str]) -> list[str]:
    """Turn ``emulator://`` query parameters into ``harness emulate`` flags."""
    args: list[str] = []
    for key, value in query.items():
        flag = EMULATOR_QUERY.get(key)
        if flag is None:
            raise HandsetUriError(f"emulator URI: unknown option {key!r} (known: {', '.join(sorted(EMULATOR_QUERY))})")
        if flag in _FLAGS:
            if value.lower() in ("1", "true", "yes", "on", ""):
                args.append(flag)
        else:
            args += [flag, value]
    return args


def parse_uri(uri: str) -> tuple[str, str, dict[str, str]]:
    """(scheme, location, query) of a handset URI, with a clear error for anything else."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (parses the port: adb-tcp://host:99999 or :x is refused here)
    except ValueError as exc:
        raise HandsetUriError(f"handset URI {uri!r}: {exc}") from None
    if parts.scheme not in ("emulator", "adb-tcp", "adb-usb"):
        raise HandsetUriError(f"handset URI {uri!r}: scheme must be emulator://PROFILE, adb-tcp://HOST:PORT or adb-usb://SERIAL")
    location = parts.netloc + parts.path.rstrip("/")
    return parts.scheme, location, dict(parse_qsl(parts.query, keep_blank_values=True))


def connect_when_up(uri: str, timeout: float = 60.0, on_retry: Callable[[Exception], None] | None = None) -> Handset:
    """Connect, retrying while the handset is still booting (after a reset or a power cycle).

    `on_retry` hears each failed attempt (a progress display); the last error is raised at the deadline.
    """
    from harness.adb import connect_handset
    from harness.retry import keep_trying

    return keep_trying(lambda: connect_handset(uri, timeout=10.0), timeout, pause=0.3, on_retry=on_retry)


def open_inventory_handset(inventory: Any, profile: str | None = None, os_version: str | None = None,
                           theme: str | None = None, emulator_options: dict[str, Any] | None = None,
                           wait: bool = True, timeout: float = 600.0) -> OpenedHandset:
    """Lease a matching handset of a rack inventory and open it; emulated ones are re-flashed first."""
    from harness.emulator.control import ControlClient
    from harness.lab.leases import lease_any

    emulated = bool(inventory.handsets) and all(e.control for e in inventory.handsets)
    lease = lease_any(inventory, profile=profile, os_version=None if emulated else os_version, wait=wait, timeout=timeout)
    try:
        entry = lease.entry
        endpoints: dict[str, Any] = {k: v for k, v in (("mail", entry.mail), ("control", entry.control),
                                                      ("control_token", entry.control_token),
                                                      ("modem_number", entry.modem_number)) if v}
        for port in ("console", "modem"):
            if getattr(entry, port):  # usb-serial:..., usb-location:..., @name become openable pyserial URLs
                endpoints[port] = inventory.resolve_port(entry, port)
        if entry.control:
            with ControlClient.for_endpoints(endpoints) as control:
                control.call("lab_reset", os_version=os_version or inventory.profile_of(entry).os_version)
                control.call("theme", theme=theme or inventory.profile_of(entry).theme)
                options = emulator_options or {}
                control.call("toasts", enabled=str(options.get("toasts", "0")).lower() in ("1", "true", "yes"),
                             **({"interval": float(options["toast_interval"])} if "toast_interval" in options else {}))
                if "animation_ms" in options:
                    control.call("animation", ms=int(options["animation_ms"]))
        handset = connect_when_up(entry.uri)
        return OpenedHandset(entry.uri, handset, inventory.profile_of(entry), endpoints, None, lease)
    except BaseException:
        lease.release()
        raise


def _exited(emulator: Any) -> Callable[[], str | None]:
    """For an emulator child: why its handset cannot come back (the process ended), else None."""
    def check() -> str | None:
        code = emulator.proc.poll() if emulator.proc is not None else None
        return None if code is None else f"its emulator process exited with {code}"
    return check


def open_handset(uri: str, log_dir: str | Path | None = None, extra_emulator_args: list[str] | None = None,
                 timeout: float = 30.0) -> OpenedHandset:
    """Open any handset URI; the caller closes the result."""
    from harness.adb import connect_handset

    scheme, location, query = parse_uri(uri)
    if scheme != "emulator":
        handset = connect_handset(uri, timeout=timeout)
        return OpenedHandset(uri, handset)
    from harness.adb.auth import default_key_path, load_or_create_key  # noqa: F401  (creates the key on first use)
    from harness.emulator.process import EmulatorProcess

    profile = load_profile(location or "lumia-930")
    key_path = Path(default_key_path())
    load_or_create_key(key_path)
    args = emulator_args(query) + ["--adb-key", str(key_path) + ".pub", *(extra_emulator_args or [])]
    if log_dir:  # a file of its own: a second emulator of one run gets emulator.2.log, never a share of the first's
        from harness.artifacts import new_file

        Path(log_dir).mkdir(parents=True, exist_ok=True)
        log_path: Path | None = new_file(log_dir, "emulator.log")
    else:
        log_path = None
    emulator = EmulatorProcess(profile.name, args, log_path=log_path, startup_timeout=left(60.0) or 0.0)
    endpoints = emulator.start()
    try:
        handset = connect_handset(f"adb-tcp://{endpoints['adb']}", timeout=timeout, gone=_exited(emulator))
    except Exception:
        emulator.stop()
        raise
    return OpenedHandset(uri, handset, profile, endpoints, emulator)
