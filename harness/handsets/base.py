"""What every handset scheme shares: the split URI, its one-line error, how to open, and what opening gives.

A scheme module (``adb_tcp``, ``adb_usb``, ``emulator``, ...) turns a
``HandsetUri`` into its own address with ``parse``, opens that address with
``open``, and says whether a handset is there with ``probe``; ``SchemeModule``
is the shape the registry expects of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Protocol, Sequence
from urllib.parse import parse_qsl, urlsplit

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.emulator.process import EmulatorProcess
    from harness.handset import Handset
    from harness.profiles import Profile


class HandsetUriError(HarnessError, ValueError):
    """A handset URI that cannot be understood; ``reason`` says which part is wrong."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"handset URI {uri!r}: {reason}")
        self.uri, self.reason = uri, reason


@dataclass(frozen=True)
class HandsetUri:
    """A handset URI split into scheme, location (``netloc`` + path) and query; ``text`` as given."""

    text: str
    scheme: str
    location: str
    query: dict[str, str] = field(default_factory=dict)

    @classmethod
    def split(cls, uri: str) -> "HandsetUri":
        """Split any ``SCHEME://LOCATION?QUERY``; which schemes exist is the registry's business."""
        try:
            parts = urlsplit(uri)
        except ValueError as exc:
            raise HandsetUriError(uri, str(exc)) from None
        if not parts.scheme or "://" not in uri:
            raise HandsetUriError(uri, "expected SCHEME://..., e.g. adb-tcp://HOST:PORT")
        location = parts.netloc + parts.path.rstrip("/")
        return cls(uri, parts.scheme, location, dict(parse_qsl(parts.query, keep_blank_values=True)))

    def error(self, what: str) -> HandsetUriError:
        """A one-line error about this URI."""
        return HandsetUriError(self.text, what)


@dataclass(frozen=True)
class OpenOptions:
    """How to open a handset; each scheme reads what concerns it and ignores the rest.

    ``timeout`` bounds each exchange with the handset; ``gone`` tells at once that a device cannot come
    back (returns why, else None); ``key_path`` is our ADB key (default: ``$HARNESS_ADB_KEY`` or
    ``~/.android/adbkey``); ``usb_backend`` a pyusb backend (default: libusb from ``libusb-package``);
    ``log_dir`` and ``emulator_args`` concern handsets the harness starts itself.
    """

    timeout: float = 30.0
    gone: Callable[[], str | None] | None = None
    key_path: str | None = None
    usb_backend: Any = None
    log_dir: str | Path | None = None
    emulator_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProbeOptions:
    """What a scheme's ``probe`` may use to say whether its handset is there, and by when it must answer.

    ``deadline`` (``time.monotonic()``) ends the whole probe, ``timeout`` is the time it was given (what a
    probe's "nothing within ..." says); ``usb_phones`` are the ADB phones discovery
    found on USB (None: USB could not be enumerated), ``usb_backend`` the pyusb backend it used; ``disturb``
    is False while a run holds the handset's lease: a probe then does nothing that could reset its session.
    """

    deadline: float
    timeout: float
    usb_phones: Sequence[Any] | None = None
    usb_backend: Any = None
    disturb: bool = True

    @classmethod
    def within(cls, timeout: float, **fields: Any) -> "ProbeOptions":
        """Options whose deadline is ``timeout`` seconds from now."""
        return cls(time.monotonic() + timeout, timeout, **fields)


class Probed(NamedTuple):
    """A probe's answer: ``answers`` True (there and answering), False (not), None (nothing to probe)."""

    answers: bool | None
    detail: str


class Hold(Protocol):
    """Something held for a handset while it is open (a lab lease), given back when it is closed."""

    def release(self) -> None: ...


@dataclass
class OpenedHandset:
    """A handset plus what came with it (its profile, its serial ports, the emulator child, its lease)."""

    uri: str
    handset: "Handset"
    profile: "Profile | None" = None
    endpoints: dict[str, Any] = field(default_factory=dict)
    emulator: "EmulatorProcess | None" = None
    lease: Hold | None = None

    @property
    def emulated(self) -> bool:
        """True when a lab control socket is at hand (a started emulator or an emulated rack handset)."""
        return self.emulator is not None or "control" in self.endpoints

    def close(self) -> None:
        """Close the handset, then stop what came with it (its emulator) and give back its lease."""
        try:
            self.handset.close()
        finally:
            try:
                if self.emulator is not None:
                    self.emulator.stop()
            finally:
                if self.lease is not None:
                    self.lease.release()


class SchemeModule(Protocol):
    """One handset scheme, as a module: its usage line, its parser and its opener (see ``registry``).

    Optional: ``connect(address, options) -> Handset`` for a handset that is already there, and
    ``variant(uri, profile, options) -> str`` for a scheme that makes a handset of any profile.
    """

    #: The URI's form, for errors and help: ``adb-tcp://HOST:PORT``.
    USAGE: str
    #: True when opening starts the handset for the occasion (``emulator://``): no lease, nothing to connect to.
    STARTS_HANDSET: bool

    def parse(self, uri: HandsetUri) -> Any:
        """This scheme's address from the URI, or a ``HandsetUriError`` naming the wrong part."""

    def open(self, address: Any, options: OpenOptions) -> OpenedHandset:
        """The opened handset at ``address``; the caller closes it."""

    def probe(self, address: Any, options: ProbeOptions) -> Probed:
        """Is a handset at ``address`` now, and what is it; by ``options.deadline``, disturbing no run."""
