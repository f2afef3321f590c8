"""Every sign-in flow of the help page, end to end: vision looks, ADB taps, the modem reads the code."""

from __future__ import annotations

import re

import pytest

from harness.adb.services import SyncError
from harness.flows import MaildirCodeSource, SignInFailed, sign_in_after_setup, sign_in_during_setup
from harness.flows.signin import (
    add_outlook_account,
    change_account,
    finish_setup_without_account,
    install_update,
    reauth_additional_accounts,
    sign_in_again_after_update,
)

from e2e_markers import E2E_MARKERS

pytestmark = E2E_MARKERS


def _email_on_file(account) -> str:
    """The e-mail address the account has on file for its codes, as the secrets file states it (rack or emulator)."""
    if not account.email:
        pytest.skip(f"the secrets file gives no e-mail on file for {account.address}: add email = ... to its role")
    return account.email


def test_sign_in_during_setup_with_two_step_by_text(flow, account, sms_codes) -> None:
    result = sign_in_during_setup(flow, account, sms_codes)
    assert result.final_screen == "start" and result.two_step
    assert [s.screen for s in flow.steps][:1] == ["setup_welcome"]
    assert "two_step_code" in [s.screen for s in flow.steps]


def test_sign_in_during_setup_with_two_step_by_email(flow, account, inbox) -> None:
    codes = MaildirCodeSource(inbox / _email_on_file(account))
    result = sign_in_during_setup(flow, account, codes)
    assert result.final_screen == "start" and result.two_step


@pytest.mark.account("no_two_step")
def test_sign_in_after_setup_from_settings(flow, account, handset) -> None:
    finish_setup_without_account(flow)
    result = sign_in_after_setup(flow, account)
    assert result.final_screen == "account_settings" and not result.two_step
    accounts = handset.shell("dumpsys account")
    assert f"Account {{name={account.address}, type=microsoft, state=ok}}" in accounts, accounts
    calendar = re.search(r"^\s+calendar: (\S+)$", accounts, re.M)
    assert calendar is not None and calendar.group(1) in ("synced", "syncing"), accounts


@pytest.mark.os_version("8.0")
def test_after_update_to_8_1_sign_in_again_with_two_step_and_additional_accounts(flow, accounts, sms_codes, handset) -> None:
    sign_in_during_setup(flow, accounts["primary"], sms_codes)
    add_outlook_account(flow, accounts["additional"])
    rec = install_update(flow)
    assert rec.screen == "sign_in_again"
    assert handset.shell("getprop ro.build.version.release").strip() == "8.1"
    result = sign_in_again_after_update(flow, accounts["primary"], sms_codes)
    assert result.final_screen == "start" and result.two_step
    (again,) = reauth_additional_accounts(flow, [accounts["additional"]])
    assert again.final_screen == "email_accounts"


def test_change_account_backs_up_resets_and_the_new_account_restores_nothing_of_the_first(
        flow, accounts, sms_codes, handset, inbox) -> None:
    """A backup belongs to the account that made it: after the reset, another account is offered none of it."""
    sign_in_during_setup(flow, accounts["primary"], sms_codes)
    handset.push(b"backed up by the first account\n", "/sdcard/Documents/kept.txt")
    new = accounts["secondary"]
    codes = MaildirCodeSource(inbox / _email_on_file(new))
    result = change_account(flow, new, codes,
                            after_backup=lambda: handset.push(b"written after the backup\n", "/sdcard/Documents/lost.txt"))
    assert result.final_screen == "start" and not result.restored
    assert "restore_backup" not in [s.screen for s in flow.steps]
    for path in ("/sdcard/Documents/kept.txt", "/sdcard/Documents/lost.txt"):
        with pytest.raises(SyncError, match="No such file or directory"):
            handset.pull(path)
    assert new.address in handset.shell("dumpsys account")


@pytest.mark.parametrize("failure", ["wrong_password", "unknown_account", "no_network"])
def test_failure_screens_are_recognised_and_named(request, flow, account, failure) -> None:
    """Wrong password and unknown account need only the account, so they run on rack phones too;
    no network needs the emulator's control to take the network away."""
    from harness.accounts import Credentials

    if failure == "wrong_password":
        account = Credentials.of(account.address, "not-the-password")
    elif failure == "unknown_account":
        account = Credentials.of("nobody-here@outlook.com", "whatever-1")
    else:
        request.getfixturevalue("emulator_control").call("set_network", up=False)
    with pytest.raises(SignInFailed) as info:
        sign_in_during_setup(flow, account)
    assert info.value.screen == failure
    assert failure in str(info.value) and info.value.screenshot
