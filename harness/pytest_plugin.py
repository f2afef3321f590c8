"""The pytest plugin (entry point ``pytest11``): handsets, screens, modem, accounts and artifacts as fixtures.

With no option, tests run on an emulated handset, so a fresh checkout needs no
hardware. Options can also be set in ``pytest.ini`` / ``pyproject.toml``.
Imports of the heavy layers (OpenCV, ADB) happen inside fixtures, so the
plugin costs nothing in test runs that do not use it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

_ARTIFACTS_KEY = pytest.StashKey[Any]()
_DEVICE_KEY = pytest.StashKey[Any]()
_FLOW_KEY = pytest.StashKey[Any]()
_CONSOLE_KEY = pytest.StashKey[Any]()

MARKERS = [
    "profile(*names): run on emulated handsets of these profiles (real handsets: skip unless the model matches)",
    "theme(*themes): run on emulated handsets in these themes (dark, light)",
    "os_version(version): the handset must run this OS version (8.0 or 8.1); emulated handsets start with it",
    "emulator(**options): extra emulator:// options (toasts, animation_ms, accounts, ...) for emulated handsets",
    "account(role): which test account the 'account' fixture gives (default: primary)",
]


# --------------------------------------------------------------------------- options
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("handset-harness")
    group.addoption("--handset", action="append", default=None, metavar="URI",
                    help="handset to test (repeatable): emulator://PROFILE, adb-tcp://HOST:PORT, adb-usb://SERIAL")
    group.addoption("--modem", default=None, metavar="URL", help="pyserial URL of the modem that receives access codes")
    group.addoption("--screens", default=None, metavar="DIR", help="screen library folder (default: the library shipped with the package)")
    group.addoption("--artifacts", default=None, metavar="DIR", help="where screenshots, logs and traces go (default: artifacts)")
    group.addoption("--inbox", default=None, metavar="MAILDIR", help="Maildir that receives e-mailed access codes")
    group.addoption("--secrets", default=None, metavar="FILE", help="TOML file of test accounts by role")
    group.addoption("--inventory", default=None, metavar="FILE",
                    help="rack inventory (TOML): each test leases a matching handset from it (one per xdist worker)")
    group.addoption("--emulator-option", action="append", default=[], metavar="KEY=VALUE",
                    help="default emulator:// option for every emulated handset (e.g. toasts=1)")
    parser.addini("handsets", "handset URIs", type="linelist", default=[])
    parser.addini("modem", "pyserial URL of the access-code modem", default="")
    parser.addini("screens", "screen library folder", default="")
    parser.addini("artifacts", "artifacts folder", default="")
    parser.addini("inbox", "Maildir for e-mailed access codes", default="")
    parser.addini("secrets", "TOML file of test accounts by role", default="")
    parser.addini("inventory", "rack inventory file", default="")
    parser.addini("emulator_options", "default emulator:// options (KEY=VALUE per line)", type="linelist", default=[])


_INI = {"handset": "handsets", "modem": "modem", "screens": "screens", "artifacts": "artifacts", "inbox": "inbox",
        "secrets": "secrets", "inventory": "inventory"}


def _opt(config: pytest.Config, name: str) -> Any:
    """A command-line option, else its ini setting."""
    value = config.getoption(name.replace("-", "_"), default=None)
    if value in (None, [], "") and name in _INI:
        value = config.getini(_INI[name])
    return value or None


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)


# --------------------------------------------------------------------------- parametrisation
def _handset_uris(config: pytest.Config) -> list[str]:
    if _opt(config, "inventory") and not _opt(config, "handset"):
        return ["inventory://any"]
    return list(_opt(config, "handset") or ["emulator://lumia-930"])


def _with_query(uri: str, extra: dict[str, Any]) -> str:
    if not extra:
        return uri
    from urllib.parse import urlencode

    sep = "&" if "?" in uri else "?"
    return uri + sep + urlencode({k: ("1" if v is True else str(v)) for k, v in extra.items()})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "handset_uri" not in metafunc.fixturenames:
        return
    uris = _handset_uris(metafunc.config)
    profiles = [a for m in metafunc.definition.iter_markers("profile") for a in m.args]
    themes = [a for m in metafunc.definition.iter_markers("theme") for a in m.args]
    params, ids = [], []
    for uri in uris:
        if uri.startswith("inventory://"):
            for profile in profiles or ["any"]:
                for theme in themes or [None]:
                    params.append(f"inventory://{profile}" + (f"?theme={theme}" if theme else ""))
                    ids.append(f"{profile}" + (f"-{theme}" if theme else ""))
        elif uri.startswith("emulator://"):
            base = uri.split("?", 1)[0]
            query = uri.split("?", 1)[1] if "?" in uri else ""
            for profile in profiles or [base[len("emulator://"):] or "lumia-930"]:
                for theme in themes or [None]:
                    u = f"emulator://{profile}" + (f"?{query}" if query else "")
                    u = _with_query(u, {"theme": theme} if theme else {})
                    params.append(u)
                    ids.append(f"{profile}" + (f"-{theme}" if theme else ""))
        else:
            params.append(uri)
            ids.append(re.sub(r"[^A-Za-z0-9.:-]+", "_", uri))
    metafunc.parametrize("handset_uri", params, ids=ids, indirect=False)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def artifacts_root(pytestconfig: pytest.Config) -> Path:
    root = Path(_opt(pytestconfig, "artifacts") or "artifacts")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return (root / worker) if worker else root


@pytest.fixture
def artifacts(request: pytest.FixtureRequest, artifacts_root: Path) -> Any:
    """This test's artifacts folder (screenshots, steps.jsonl, console and modem logs, emulator log).

    Named after the test id, parameters included, and always new: a re-run gets ``NAME.2``.
    """
    from harness.artifacts import Artifacts

    art = Artifacts(artifacts_root, request.node.nodeid.replace("/", "_").replace("::", "__"))
    request.node.stash[_ARTIFACTS_KEY] = art
    return art


@pytest.fixture(scope="session")
def screens(pytestconfig: pytest.Config) -> Any:
    """The screen library (the one shipped with the package, or --screens DIR)."""
    from harness.vision import ScreenLibrary

    folder = _opt(pytestconfig, "screens")
    return ScreenLibrary.load(folder) if folder else ScreenLibrary.load_default()


def _marker_query(request: pytest.FixtureRequest) -> dict[str, Any]:
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


@pytest.fixture
def device(request: pytest.FixtureRequest, handset_uri: str, artifacts: Any) -> Iterator[Any]:
    """The opened handset with its endpoints; emulated handsets start fresh for each test."""
    from harness.handsets import open_handset
    from harness.lab.leased_handset import open_inventory_handset

    uri = handset_uri
    if uri.startswith("inventory://"):
        from urllib.parse import parse_qsl, urlsplit

        from harness.lab.leases import NoMatchingHandset

        parts = urlsplit(uri)
        options = _marker_query(request)
        theme = dict(parse_qsl(parts.query)).get("theme")
        try:
            opened = open_inventory_handset(_inventory(request.config), None if parts.netloc == "any" else parts.netloc,
                                            options.pop("os_version", None), theme, options)
        except NoMatchingHandset as exc:
            pytest.skip(str(exc))
    else:
        if uri.startswith("emulator://"):
            uri = _with_query(uri, _marker_query(request))
        held = _lease_of_uri(request.config, uri)  # --handset URI of an inventory handset: leased like its name
        try:
            opened = open_handset(uri, log_dir=artifacts.dir)
        except BaseException:
            if held is not None:
                held.release()
            raise
        opened.lease = held
    request.node.stash[_DEVICE_KEY] = opened
    console = None
    try:
        os_marker = request.node.get_closest_marker("os_version")
        if os_marker and not opened.emulated:
            version = opened.handset.info.os_version
            if version and version != os_marker.args[0]:
                pytest.skip(f"needs OS {os_marker.args[0]}, handset runs {version}")
        if "console" in opened.endpoints:
            from harness.console import SerialConsole

            console = SerialConsole(opened.endpoints["console"], log_path=artifacts.claim("console.log"))
            request.node.stash[_CONSOLE_KEY] = console
        yield opened
    finally:
        if console is not None:
            console.close()
        opened.close()


_INVENTORY: dict[str, Any] = {}


def _lease_of_uri(config: pytest.Config, uri: str) -> Any:
    """The lease of the inventory handset at ``uri`` (None without --inventory, or for a URI not in it)."""
    if not _opt(config, "inventory") or uri.startswith("emulator://"):
        return None
    from harness.lab.leases import lease
    from harness.lab.chosen import entry_with_uri

    inventory = _inventory(config)
    entry = entry_with_uri(inventory, uri)
    return lease(inventory, entry.name) if entry is not None else None


def _inventory(config: pytest.Config) -> Any:
    from harness.lab.inventory import Inventory

    path = _opt(config, "inventory")
    if path not in _INVENTORY:
        _INVENTORY[path] = Inventory.load(path)
    return _INVENTORY[path]


@pytest.fixture
def handset(device: Any) -> Any:
    """The Handset under test."""
    return device.handset


@pytest.fixture
def modem(request: pytest.FixtureRequest, device: Any, artifacts: Any) -> Iterator[Any]:
    """The GSM modem whose SIM receives access codes (--modem URL, or the emulated handset's modem)."""
    from harness.modem import GsmModem

    url = _opt(request.config, "modem") or device.endpoints.get("modem")
    if not url:
        pytest.skip("no modem: give --modem URL (or set modem = ... in the ini file)")
    m = GsmModem(url, log_path=artifacts.claim("modem.log"))
    try:
        yield m
    finally:
        m.close()


@pytest.fixture(scope="session")
def accounts(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Test accounts by role, from HARNESS_SECRETS / --secrets / HARNESS_ACCOUNT_<ROLE> (demo ones for the emulator)."""
    from harness.accounts import DEMO_SECRETS, load_accounts

    path = _opt(pytestconfig, "secrets") or os.environ.get("HARNESS_SECRETS")
    found = load_accounts(path)
    if not found:
        found = load_accounts(DEMO_SECRETS)
    return found


@pytest.fixture
def account(request: pytest.FixtureRequest, accounts: dict[str, Any]) -> Any:
    """The test account (role 'primary' unless @pytest.mark.account(role))."""
    marker = request.node.get_closest_marker("account")
    role = marker.args[0] if marker else "primary"
    if role not in accounts:
        pytest.skip(f"no test account for role {role!r}: set HARNESS_ACCOUNT_{role.upper()} and HARNESS_PASSWORD_{role.upper()}")
    return accounts[role]


@pytest.fixture
def sms_codes(modem: Any, device: Any) -> Any:
    """Access codes by text message, read from the modem (whose number is the SIM's, or the inventory's)."""
    from harness.flows import SmsCodeSource

    own = modem.url == device.endpoints.get("modem")  # not a --modem given for another SIM
    return SmsCodeSource(modem, number=device.endpoints.get("modem_number") if own else None)


@pytest.fixture
def inbox(request: pytest.FixtureRequest, device: Any) -> Path:
    """The Maildir root where e-mailed access codes arrive."""
    folder = _opt(request.config, "inbox") or device.endpoints.get("mail")
    if not folder:
        pytest.skip("no inbox: give --inbox MAILDIR")
    return Path(folder)


@pytest.fixture
def lab(device: Any) -> Any:
    """Lab-side switches (network, OS update, accounts); emulated handsets only, skipped on real ones."""
    if not device.emulated:
        pytest.skip("needs lab control of the handset's network/OS, available on emulated handsets")
    from harness.emulator.control import ControlClient

    client = ControlClient.for_endpoints(device.endpoints)
    client.call("ping")  # authenticate now: the socket lets an authenticated client idle, never a silent one
    yield client
    client.close()


@pytest.fixture
def flow(request: pytest.FixtureRequest, handset: Any, screens: Any, artifacts: Any, device: Any) -> Any:
    """A FlowRunner for this test: steps logged with screen, timing and screenshot."""
    from harness.flows import FlowRunner

    runner = FlowRunner(handset, screens, artifacts, scale=device.profile.scale if device.profile else None)
    request.node.stash[_FLOW_KEY] = runner
    return runner


# --------------------------------------------------------------------------- reporting
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    art = item.stash.get(_ARTIFACTS_KEY, None)
    if art is None or report.when not in ("setup", "call"):
        return
    if report.when == "call" or report.failed:
        item.user_properties.append(("artifacts", str(art.dir)))
    if not report.failed:
        return
    lines = [f"artifacts: {art.dir}"]
    flow = item.stash.get(_FLOW_KEY, None)
    screenshot = _last_screenshot(item, art)
    if screenshot:
        lines.append(f"last screenshot: {screenshot}")
        item.user_properties.append(("screenshot", str(screenshot)))
    if flow is not None and flow.last is not None:
        lines.append(f"recognised screen: {flow.last.screen} (score {flow.last.score:.3f})")
        item.user_properties.append(("screen", flow.last.screen))
    console_log = art.path("console.log")
    if console_log.exists():
        from harness.secrets import redact

        tail = console_log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
        lines.append("console log (tail):")
        lines += ["    " + redact(line) for line in tail]
    report.sections.append(("handset", "\n".join(lines)))
    _html_extras(item, report, screenshot)


#: What a failure hook may spend on a last screenshot: evidence, not a second wait for a dead handset.
EVIDENCE_SECONDS = 3.0


def _last_screenshot(item: pytest.Item, art: Any) -> Path | None:
    from harness.deadline import within

    device = item.stash.get(_DEVICE_KEY, None)
    if device is not None:
        try:
            with within(EVIDENCE_SECONDS):
                return art.save_screenshot(device.handset.screenshot(), "at-failure")
        except Exception:
            pass
    return art.last_screenshot


def _html_extras(item: pytest.Item, report: Any, screenshot: Path | None) -> None:
    if screenshot is None or not item.config.pluginmanager.hasplugin("html"):
        return
    try:
        import base64

        import pytest_html  # type: ignore[import-not-found]
    except ImportError:
        return
    extras = getattr(report, "extras", [])
    extras.append(pytest_html.extras.png(base64.b64encode(Path(screenshot).read_bytes()).decode()))
    report.extras = extras
