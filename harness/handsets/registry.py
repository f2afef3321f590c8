"""The one table of handset URI schemes: a scheme's name -> the module that parses and opens it.

As pyserial's ``serial/urlhandler/protocol_<scheme>.py``: a new scheme is a
module with ``USAGE``, ``parse``, ``open`` and ``probe`` (see
``base.SchemeModule``) and one line in ``SCHEMES``. Modules are imported when their scheme is first used,
so naming a scheme costs nothing until a handset is opened.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, cast

from harness.errors import quote_seen
from harness.handsets.base import (
    HandsetUri, HandsetUriError, OpenedHandset, OpenOptions, Probed, ProbeOptions, SchemeModule,
)

if TYPE_CHECKING:
    from harness.handset import Handset

#: scheme -> its module.
SCHEMES: dict[str, str] = {
    "emulator": "harness.handsets.emulator",
    "adb-tcp": "harness.handsets.adb_tcp",
    "adb-usb": "harness.handsets.adb_usb",
    "robot": "harness.handsets.robot",
}


def scheme_module(scheme: str) -> SchemeModule:
    """The module of a registered scheme."""
    if scheme not in SCHEMES:
        raise KeyError(scheme)
    return cast(SchemeModule, importlib.import_module(SCHEMES[scheme]))


def usages() -> str:
    """Every scheme's form, for errors and help: ``emulator://PROFILE, adb-tcp://HOST:PORT or adb-usb://SERIAL``."""
    forms = [scheme_module(s).USAGE for s in SCHEMES]
    return ", ".join(forms[:-1]) + f" or {forms[-1]}" if len(forms) > 1 else forms[0]


def _resolve(uri: str) -> tuple[SchemeModule, HandsetUri, Any]:
    """(the scheme's module, the split URI, the scheme's address); a one-line error for any bad part."""
    split = HandsetUri.split(uri)
    if split.scheme not in SCHEMES:
        raise split.error(f"scheme must be {usages()}")
    module = scheme_module(split.scheme)
    return module, split, module.parse(split)


def parse_uri(uri: str) -> HandsetUri:
    """The URI split and checked by its scheme's module (nothing is opened); ``HandsetUriError`` if bad."""
    return _resolve(uri)[1]


def starts_handset(uri: str) -> bool:
    """True when opening ``uri`` starts its handset (``emulator://``); False for a phone that is there, or no URI."""
    try:
        split = HandsetUri.split(uri)
    except HandsetUriError:
        return False
    return split.scheme in SCHEMES and scheme_module(split.scheme).STARTS_HANDSET


def pace(uri: str | None) -> float:
    """How many times longer than over ADB a handset of ``uri``'s scheme takes for the same steps (its module's
    ``PACE``; 1 for a scheme without one, or no URI): what a command's default --timeout is multiplied by."""
    try:
        split = HandsetUri.split(uri or "")
    except HandsetUriError:
        return 1.0
    return float(getattr(scheme_module(split.scheme), "PACE", 1.0)) if split.scheme in SCHEMES else 1.0


def with_options(uri: str, profile: str | None = None, **options: object) -> str:
    """``uri`` for another profile and with more options, for a scheme that starts its handset (``emulator://``).

    Nothing is checked beyond the scheme: the profile and options are checked when the URI is opened.
    """
    split = HandsetUri.split(uri)
    variant = getattr(scheme_module(split.scheme), "variant", None) if split.scheme in SCHEMES else None
    if variant is None:
        raise split.error(f"{split.scheme}:// is a phone as it is: it takes no profile or options")
    result: str = variant(split, profile, options)
    return result


def open_handset(uri: str, log_dir: str | Path | None = None, extra_emulator_args: list[str] | None = None,
                 timeout: float = 30.0, **options: Any) -> OpenedHandset:
    """Open any handset URI; the caller closes the result. ``options``: more ``OpenOptions`` fields."""
    module, _, address = _resolve(uri)
    how = OpenOptions(timeout=timeout, log_dir=log_dir, emulator_args=tuple(extra_emulator_args or ()), **options)
    return module.open(address, how)


def probe_uri(uri: str, options: ProbeOptions) -> Probed:
    """Ask ``uri``'s scheme whether its handset is there (its module's ``probe``), by ``options.deadline``.

    Discovery asks this of every handset of a rack at once: one scheme's probe that breaks is that
    handset's answer (one line naming the scheme), not the end of the report.
    """
    try:
        module, split, address = _resolve(uri)
    except HandsetUriError as exc:
        return Probed(False, str(exc))
    probe = getattr(module, "probe", None)
    if probe is None:
        return Probed(None, f"not probed: {split.scheme}:// has no probe")
    try:
        probed: Probed = probe(address, options)
    except Exception as exc:  # any failure of one scheme's probe: reported for its handset, the others go on
        return Probed(False, f"{split.scheme}:// probe failed: {type(exc).__name__}: {quote_seen(str(exc), 200)}")
    return probed


def connect_handset(uri: str, timeout: float = 10.0, key_path: str | None = None, usb_backend: object = None,
                    gone: Callable[[], str | None] | None = None) -> "Handset":
    """Connect to a handset that is already there (``adb-tcp://``, ``adb-usb://``); ``gone``: see ``OpenOptions``.

    A scheme whose handset is started for the occasion (``emulator://``) has no ``connect``: it is opened
    with ``open_handset``, whose result also stops what was started.
    """
    module, split, address = _resolve(uri)
    connect = getattr(module, "connect", None)
    if module.STARTS_HANDSET or connect is None:
        raise split.error(f"{split.scheme}:// starts a handset of its own; open it with open_handset")
    handset: Handset = connect(address, OpenOptions(timeout=timeout, key_path=key_path, usb_backend=usb_backend,
                                                    gone=gone))
    return handset


def connect_when_up(uri: str, timeout: float = 60.0, on_retry: Callable[[Exception], None] | None = None) -> "Handset":
    """Connect, retrying while the handset is still booting (after a reset or a power cycle).

    `on_retry` hears each failed attempt (a progress display); the last error is raised at the deadline.
    """
    from harness.retry import keep_trying

    parse_uri(uri)  # a bad URI fails at once, not at the deadline
    return keep_trying(lambda: connect_handset(uri, timeout=10.0), timeout, pause=0.3, on_retry=on_retry)


__all__ = ["SCHEMES", "HandsetUriError", "scheme_module", "usages", "parse_uri", "starts_handset", "with_options",
           "open_handset", "probe_uri", "connect_handset", "connect_when_up"]
