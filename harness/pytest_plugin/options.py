"""The plugin's command-line options, their ini settings and its markers.

A command-line option wins over its ini setting, so a lab can keep its rack in
``pytest.ini`` and still point one run elsewhere.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.handsets import usages

MARKERS = [
    "profile(*names): run on emulated handsets of these profiles (real handsets: skip unless the model matches)",
    "theme(*themes): run on emulated handsets in these themes (dark, light)",
    "os_version(version): the handset must run this OS version (8.0 or 8.1); emulated handsets start with it",
    "emulator(**options): extra emulator:// options (toasts, animation_ms, accounts, ...) for emulated handsets",
    "account(role): which test account the 'account' fixture gives (default: primary)",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("handset-harness")
    group.addoption("--handset", action="append", default=None, metavar="URI",
                    help=f"handset to test (repeatable): {usages()}")
    group.addoption("--modem", default=None, metavar="URL", help="pyserial URL of the modem that receives access codes")
    group.addoption("--modem-mode", default=None, choices=("auto", "pdu", "text"),
                    help="read the modem in PDU or text mode (default auto: PDU mode where it offers it)")
    group.addoption("--modem-profile", default=None, metavar="VENDOR",
                    help="the modem's vendor profile: auto (from AT+CGMI/ATI), generic, quectel, huawei, simcom, cinterion")
    group.addoption("--screens", default=None, metavar="DIR", help="screen library folder (default: the library shipped with the package)")
    group.addoption("--artifacts", default=None, metavar="DIR", help="where screenshots, logs and traces go (default: artifacts)")
    group.addoption("--inbox", default=None, metavar="MAILDIR|URL", help="where e-mailed access codes arrive: "
                    "imaps://USER@HOST[:PORT]/FOLDER (password in $HARNESS_INBOX_PASSWORD) or a Maildir")
    group.addoption("--inbox-ca", default=None, metavar="FILE", help="CA certificate to trust for an imaps:// inbox")
    group.addoption("--secrets", default=None, metavar="FILE", help="TOML file of test accounts by role")
    group.addoption("--inventory", default=None, metavar="FILE",
                    help="rack inventory (TOML): each test leases a matching handset from it (one per xdist worker)")
    group.addoption("--lg-place-wait", type=float, default=600.0, metavar="SECONDS",
                    help="with labgrid's --lg-coordinator: how long a test waits for a free place with its tags "
                         "before it is skipped (default 600)")
    group.addoption("--record", default=None, choices=("always", "failures", "never"),
                    help="keep a video of the frames each test took (video.webm beside its timeline.html): always, "
                         "failures (default: only of failing tests) or never")
    group.addoption("--emulator-option", action="append", default=[], metavar="KEY=VALUE",
                    help="default emulator:// option for every emulated handset (e.g. toasts=1)")
    parser.addini("handsets", "handset URIs", type="linelist", default=[])
    parser.addini("modem", "pyserial URL of the access-code modem", default="")
    parser.addini("modem_mode", "auto, pdu or text", default="")
    parser.addini("modem_profile", "auto or a modem vendor profile", default="")
    parser.addini("screens", "screen library folder", default="")
    parser.addini("artifacts", "artifacts folder", default="")
    parser.addini("inbox", "IMAP inbox URL or Maildir for e-mailed access codes", default="")
    parser.addini("inbox_ca", "CA certificate to trust for an imaps:// inbox", default="")
    parser.addini("secrets", "TOML file of test accounts by role", default="")
    parser.addini("inventory", "rack inventory file", default="")
    parser.addini("record", "always, failures or never: which tests keep a video", default="")
    parser.addini("emulator_options", "default emulator:// options (KEY=VALUE per line)", type="linelist", default=[])


_INI = {"handset": "handsets", "modem": "modem", "modem-mode": "modem_mode", "modem-profile": "modem_profile",
        "screens": "screens", "artifacts": "artifacts", "inbox": "inbox", "inbox_ca": "inbox_ca",
        "secrets": "secrets", "inventory": "inventory", "record": "record"}


def option(config: pytest.Config, name: str) -> Any:
    """A command-line option, else its ini setting, else None."""
    value = config.getoption(name.replace("-", "_"), default=None)
    if value in (None, [], "") and name in _INI:
        value = config.getini(_INI[name])
    return value or None


def emulator_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """emulator:// options for this test: --emulator-option / ini defaults, then its markers (closest wins)."""
    extra: dict[str, Any] = {}
    for item in request.config.getoption("emulator_option") or request.config.getini("emulator_options") or []:
        key, _, value = item.partition("=")
        extra[key.strip()] = value.strip()
    for marker in reversed(list(request.node.iter_markers("emulator"))):
        extra.update(marker.kwargs)
    os_marker = request.node.get_closest_marker("os_version")
    if os_marker:
        extra["os_version"] = os_marker.args[0]
    return extra


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
