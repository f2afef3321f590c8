"""The fixtures a flow test composes: artifacts, screens, modem, accounts, access codes, the flow runner,
and the emulator's control for what only an emulated handset offers.

Each opens what it needs inside the fixture, so a test that uses none of them
imports neither OpenCV nor the ADB driver.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.pytest_plugin import recording, stash
from harness.pytest_plugin.options import option


@pytest.fixture(scope="session")
def artifacts_root(pytestconfig: pytest.Config) -> Path:
    """Where every test's artifacts folder goes (one folder per xdist worker, so names never race)."""
    root = Path(option(pytestconfig, "artifacts") or "artifacts")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return (root / worker) if worker else root


@pytest.fixture
def artifacts(request: pytest.FixtureRequest, artifacts_root: Path) -> Iterator[Any]:
    """This test's artifacts folder (screenshots, steps.jsonl, console and modem logs, emulator log,
    timeline.html and, under ``--record``, video.webm).

    Named after the test id, parameters included, and always new: a re-run gets ``NAME.2``.
    The timeline is written when the test is over (after the handset, modem and console are closed).
    """
    from harness.artifacts import Artifacts

    art = Artifacts(artifacts_root, request.node.nodeid.replace("/", "_").replace("::", "__"))
    request.node.stash[stash.ARTIFACTS] = art
    recording.start(request.node, art)
    try:
        yield art
    finally:
        recording.finish(request.node)


@pytest.fixture(scope="session")
def screens(pytestconfig: pytest.Config) -> Any:
    """The screen library (the one shipped with the package, or --screens DIR)."""
    from harness.vision import ScreenLibrary

    folder = option(pytestconfig, "screens")
    return ScreenLibrary.load(folder) if folder else ScreenLibrary.load_default()


@pytest.fixture
def modem(request: pytest.FixtureRequest, device: Any, artifacts: Any) -> Iterator[Any]:
    """The GSM modem whose SIM receives access codes (--modem URL, or the emulated handset's modem)."""
    from harness.modem import GsmModem
    from harness.modem.options import driver_options
    from harness.serial_port import SerialPort

    url = option(request.config, "modem") or device.endpoints.get("modem")
    if not url:
        pytest.skip("no modem: give --modem URL (or set modem = ... in the ini file)")
    try:
        settings = driver_options(option(request.config, "modem-mode"), option(request.config, "modem-profile"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    with GsmModem(SerialPort(url), log_path=artifacts.claim("modem.log"), **settings) as m:
        yield m


@pytest.fixture(scope="session")
def accounts(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Test accounts by role, from HARNESS_SECRETS / --secrets / HARNESS_ACCOUNT_<ROLE> (demo ones for the emulator)."""
    from harness.accounts import DEMO_SECRETS, load_accounts

    path = option(pytestconfig, "secrets") or os.environ.get("HARNESS_SECRETS")
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

    own = modem.resource.url == device.endpoints.get("modem")  # not a --modem given for another SIM
    return SmsCodeSource(modem, number=device.endpoints.get("modem_number") if own else None)


@pytest.fixture
def inbox(request: pytest.FixtureRequest, device: Any) -> Path:
    """The Maildir root where e-mailed access codes arrive."""
    folder = option(request.config, "inbox") or device.endpoints.get("mail")
    if not folder:
        pytest.skip("no inbox: give --inbox MAILDIR")
    from harness.flows.imap_codes import is_inbox_url

    if is_inbox_url(folder):
        pytest.skip("--inbox is an IMAP inbox, not a Maildir: this test reads a folder (email_codes reads either)")
    return Path(folder)


@pytest.fixture
def email_codes(request: pytest.FixtureRequest, device: Any, account: Any) -> Any:
    """Access codes by e-mail for ``account``: the IMAP inbox of ``--inbox imaps://...`` (its password in
    $HARNESS_INBOX_PASSWORD, ``--inbox-ca`` to trust a CA), else the Maildir of its e-mail on file."""
    from harness.flows import MaildirCodeSource
    from harness.flows.imap_codes import DEFAULT_PASSWORD_ENV, ImapCodeSource, is_inbox_url

    where = option(request.config, "inbox") or device.endpoints.get("mail")
    if where and is_inbox_url(where):
        password = os.environ.get(DEFAULT_PASSWORD_ENV)
        if password is None:
            pytest.skip(f"--inbox is an IMAP inbox but ${DEFAULT_PASSWORD_ENV} (its password) is not set")
        return ImapCodeSource(where, password, ca_file=option(request.config, "inbox_ca") or None)
    if not where:
        pytest.skip("no inbox: give --inbox imaps://USER@HOST/INBOX or --inbox MAILDIR")
    if not account.email:
        pytest.skip(f"the secrets file gives no e-mail on file for {account.address}: add email = ... to its role")
    return MaildirCodeSource(Path(where) / account.email)


@pytest.fixture
def emulator_control(device: Any) -> Any:
    """The emulated handset's authenticated control socket (network, OS update, accounts, faults).

    Only for what a test cannot get from the handset or the secrets file (taking the
    network away, an OS update, an extra account on the account service): a test
    that asks for it is skipped on real handsets.
    """
    if not device.emulated:
        pytest.skip("needs the emulator's control (network, OS update, accounts): available on emulated handsets only")
    from harness.emulator.control import ControlClient

    client = ControlClient.for_endpoints(device.endpoints)
    client.call("ping")  # authenticate now: the socket lets an authenticated client idle, never a silent one
    yield client
    client.close()


@pytest.fixture
def flow(request: pytest.FixtureRequest, handset: Any, screens: Any, artifacts: Any, device: Any) -> Any:
    """A FlowRunner for this test: steps logged with screen, timing and screenshot; every frame it takes recorded."""
    from harness.flows import FlowRunner

    run_recording = request.node.stash.get(stash.RECORDING, None)
    if run_recording is not None:
        from harness.lab.power_journal import channels_of

        handset = run_recording.handset(handset)
        run_recording.power_channels = channels_of(device.endpoints)   # `harness power` on them joins the timeline
    runner = FlowRunner(handset, screens, artifacts, scale=device.profile.scale if device.profile else None)
    request.node.stash[stash.FLOW] = runner
    return runner
