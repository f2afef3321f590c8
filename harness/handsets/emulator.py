"""``emulator://PROFILE?theme=light&toasts=1``: an emulated handset the harness starts for itself.

It starts ``harness emulate`` as a child process and then reaches it exactly
like a rack phone: over ADB (TCP, through the ``adb-tcp`` scheme), with its
console, modem and relay on their serial ports (``OpenedHandset.endpoints``).
The child stops when the opened handset is closed, or when this process dies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from harness.handsets import adb_tcp
from harness.handsets.base import HandsetUri, OpenedHandset, OpenOptions, Probed, ProbeOptions

if TYPE_CHECKING:
    from harness.emulator.process import EmulatorProcess

USAGE = "emulator://PROFILE"
#: Opening starts the handset for the occasion: it is no rack phone to lease, and nothing to connect to.
STARTS_HANDSET = True
DEFAULT_PROFILE = "lumia-930"

#: emulator:// query keys -> ``harness emulate`` flags.
OPTIONS = {
    "theme": "--theme", "accent": "--accent", "os_version": "--os-version", "os": "--os-version",
    "animation_ms": "--animation-ms", "toasts": "--toasts", "toast_seed": "--toast-seed",
    "toast_interval": "--toast-interval", "boot_time": "--boot-time", "signin_delay": "--signin-delay",
    "screen": "--screen", "accounts": "--accounts", "modem_number": "--modem-number", "serial": "--serial",
    "mail_dir": "--mail-dir", "mail_to": "--mail-to", "adb_maxdata": "--adb-maxdata", "font": "--font", "clock": "--clock",
    "modem_vendor": "--modem-vendor",
    "modem_delivery": "--modem-delivery", "modem_reenumerate": "--modem-reenumerate",
}
#: Flags that take no value: ``toasts=1`` (or true/yes/on/empty) gives ``--toasts``, anything else leaves it off.
_SWITCHES = {"--toasts", "--modem-reenumerate"}
_TRUE = ("1", "true", "yes", "on", "")


@dataclass(frozen=True)
class EmulatorSpec:
    """Which profile to emulate and the ``harness emulate`` flags its options become."""

    uri: str
    profile: str
    args: tuple[str, ...]


def emulator_args(uri: HandsetUri) -> list[str]:
    """Turn ``emulator://`` query options into ``harness emulate`` flags; an unknown option is an error."""
    args: list[str] = []
    for key, value in uri.query.items():
        flag = OPTIONS.get(key)
        if flag is None:
            raise uri.error(f"unknown option {key!r} (known: {', '.join(sorted(OPTIONS))})")
        if flag in _SWITCHES:
            if value.lower() in _TRUE:
                args.append(flag)
        else:
            args += [flag, value]
    return args


def parse(uri: HandsetUri) -> EmulatorSpec:
    """A shipped profile's name (default lumia-930) or a profile file (``emulator:///path/x.toml``)."""
    from harness.profiles import profile_names

    profile = uri.location or DEFAULT_PROFILE
    known = profile_names()
    if not profile.endswith(".toml") and profile not in known:
        raise uri.error(f"no profile {profile!r} (known: {', '.join(known)})")
    return EmulatorSpec(uri.text, profile, tuple(emulator_args(uri)))


def variant(uri: HandsetUri, profile: str | None = None, options: dict[str, object] | None = None) -> str:
    """This URI for another profile and with more options (they win over the URI's; True is "1").

    What a test run asks of one ``--handset emulator://...`` per profile and theme, and what a flow adds.
    """
    from urllib.parse import urlencode

    query = {**uri.query, **{k: "1" if v is True else str(v) for k, v in (options or {}).items()}}
    return f"emulator://{profile or uri.location or DEFAULT_PROFILE}" + (f"?{urlencode(query)}" if query else "")


def _exited(emulator: "EmulatorProcess") -> Callable[[], str | None]:
    """Why the emulator's handset cannot come back (its process ended), else None."""
    def check() -> str | None:
        code = emulator.proc.poll() if emulator.proc is not None else None
        return None if code is None else f"its emulator process exited with {code}"
    return check


def open(spec: EmulatorSpec, options: OpenOptions) -> OpenedHandset:  # noqa: A001  (the scheme API's name)
    """Start the emulator (trusting our ADB key), connect over its ADB port; closing the result stops it."""
    from harness.adb.auth import default_key_path, load_or_create_key
    from harness.deadline import left
    from harness.emulator.process import EmulatorProcess
    from harness.profiles import load_profile

    profile = load_profile(spec.profile)
    key_path = Path(options.key_path or default_key_path())
    load_or_create_key(key_path)  # made on first use, so the emulator can trust its public half
    args = [*spec.args, "--adb-key", f"{key_path}.pub", *options.emulator_args]
    log_path = None
    if options.log_dir:  # a file of its own: a second emulator of one run gets emulator.2.log, never a share of the first's
        from harness.artifacts import new_file

        Path(options.log_dir).mkdir(parents=True, exist_ok=True)
        log_path = new_file(options.log_dir, "emulator.log")
    emulator = EmulatorProcess(profile.name, args, log_path=log_path, startup_timeout=left(60.0) or 0.0)
    endpoints = emulator.start()
    try:
        host, _, port = str(endpoints["adb"]).rpartition(":")
        adb = adb_tcp.TcpAddress(f"adb-tcp://{endpoints['adb']}", host.strip("[]"), int(port))
        handset = adb_tcp.connect(adb, replace(options, gone=_exited(emulator), key_path=str(key_path)))
    except BaseException:
        emulator.stop()
        raise
    return OpenedHandset(spec.uri, handset, profile, endpoints, emulator)


def probe(spec: EmulatorSpec, options: ProbeOptions) -> Probed:
    """Nothing runs until it is opened: the probe says which phone would start, or why it could not.

    The profile is read (a profile file may be missing or wrong); no process is started.
    """
    from harness.errors import ConfigError
    from harness.profiles import load_profile

    try:
        profile = load_profile(spec.profile)
    except (ConfigError, OSError) as exc:
        return Probed(False, f"emulated: profile cannot be loaded: {exc}")
    return Probed(None, f"emulated {profile.model or profile.name}: started on demand")
