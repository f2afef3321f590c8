"""The UI state machine across a backup, a factory reset and the 8.0 -> 8.1 update: what each account gets back."""

from __future__ import annotations

from ui_rig import ALICE, ALICE_PW, BOB, BOB_PW, DAVE, DAVE_PW, Rig


def _back_up_then_reset(rig: Rig) -> None:
    """Signed in as BOB: a file and an app backed up, then another of each after the backup, then a factory reset."""
    rig.through_setup_to_sync()
    rig.sign_in(BOB, BOB_PW)
    rig.finish_setup()
    rig.fs.write("/sdcard/Documents/kept.txt", b"backed up")
    rig.ui.model.apps.append("kept app")
    rig.tap("settings")
    rig.tap("backup")
    rig.tap("back_up_now")
    assert rig.ui.model.last_backup
    rig.fs.write("/sdcard/Documents/lost.txt", b"after the backup")
    rig.ui.model.apps.append("lost app")
    rig.ui.back()
    rig.tap("about")
    rig.tap("reset")
    assert rig.screen == "reset_confirm"
    rig.tap("yes")
    assert rig.restarts == 1
    assert rig.screen == "setup_welcome"
    assert rig.ui.model.ms_account is None and rig.fs.stat("/sdcard/Documents/kept.txt") is None
    rig.through_setup_to_sync()


def test_factory_reset_keeps_only_what_was_backed_up_for_the_account_that_backed_it_up() -> None:
    rig = Rig()
    _back_up_then_reset(rig)
    rig.sign_in(BOB, BOB_PW)
    assert rig.screen == "restore_backup"
    rig.tap("restore")
    assert rig.fs.read("/sdcard/Documents/kept.txt") == b"backed up"
    assert rig.fs.stat("/sdcard/Documents/lost.txt") is None
    assert "kept app" in rig.ui.model.apps and "lost app" not in rig.ui.model.apps
    rig.finish_setup()
    assert rig.ui.model.ms_account == BOB


def test_a_different_account_after_the_reset_restores_nothing_of_the_first() -> None:
    rig = Rig()
    _back_up_then_reset(rig)
    rig.sign_in(ALICE, ALICE_PW)   # a different account is allowed after the reset
    rig.two_step_by_text()
    assert rig.screen == "setup_done", "offered to restore another account's backup"
    rig.finish_setup()
    assert rig.ui.model.ms_account == ALICE
    assert rig.fs.stat("/sdcard/Documents/kept.txt") is None and "kept app" not in rig.ui.model.apps


def test_update_8_0_to_8_1_asks_two_step_and_additional_accounts_again() -> None:
    rig = Rig(os_version="8.0")
    rig.through_setup_to_sync()
    rig.sign_in(ALICE, ALICE_PW)
    rig.two_step_by_text()
    rig.finish_setup()
    rig.to_add_account()
    rig.tap("outlook")
    assert rig.screen == "outlook_signin"
    rig.type("email", DAVE)
    rig.type("password", DAVE_PW)
    rig.tap("sign_in")
    rig.run_timers()
    assert rig.screen == "email_accounts" and rig.ui.model.outlook == {DAVE: False}
    rig.ui.start_key()
    rig.tap("settings")
    rig.tap("phone_update")
    rig.tap("install")
    assert rig.restarts == 1 and rig.ui.model.os_version == "8.1"
    assert rig.screen == "sign_in_again"
    rig.ui.start_key()
    assert rig.screen == "sign_in_again"   # cannot skip it
    rig.tap("sign_in")
    assert rig.screen == "account_password"
    rig.type("password", ALICE_PW)
    rig.tap("sign_in")
    rig.run_timers()
    rig.two_step_by_text()
    rig.run_timers()
    assert rig.screen == "start" and not rig.ui.model.ms_needs_reauth
    rig.tap("settings")
    rig.tap("email_accounts")
    assert "attention required" in rig.ui.page(853).widget(f"outlook:{DAVE}").sub
    rig.tap(f"outlook:{DAVE}")
    assert rig.screen == "outlook_signin" and rig.ui.fields["email"] == DAVE
    rig.ui.text(DAVE_PW)   # password field is focused when the address is prefilled
    rig.tap("sign_in")
    rig.run_timers()
    assert rig.ui.model.outlook == {DAVE: False}


def test_update_without_two_step_asks_nothing() -> None:
    rig = Rig(os_version="8.0")
    rig.through_setup_to_sync()
    rig.sign_in(BOB, BOB_PW)
    rig.finish_setup()
    rig.ui.update_os("8.1")
    assert rig.screen == "start"
