"""The UI state machine: every transition of both sign-in paths, and each rule the handset enforces.

Backups, factory resets and the 8.0 -> 8.1 update are in test_ui_reset_update.py."""

from __future__ import annotations

import re

import pytest
from ui_rig import ALICE, ALICE_PW, BOB, BOB_PW, Rig

from harness.emulator.ui import SCREENS


def test_setup_path_without_two_step() -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.sign_in(BOB, BOB_PW)
    rig.finish_setup()
    assert rig.ui.model.ms_account == BOB
    assert rig.ui.model.setup_complete


def test_setup_path_with_two_step_by_text_and_sync() -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.sign_in(ALICE, ALICE_PW)
    rig.two_step_by_text()
    assert rig.inbox[-1].sender == "69525"
    assert rig.ui.model.sync == {"email": "syncing", "contacts": "syncing", "calendar": "syncing"}
    rig.run_timers()
    assert set(rig.ui.model.sync.values()) == {"synced"}
    rig.finish_setup()


def test_two_step_by_email_lands_in_maildir(tmp_path) -> None:
    import mailbox

    rig = Rig()
    rig.service.mail_dir = tmp_path
    rig.through_setup_to_sync()
    rig.sign_in(ALICE, ALICE_PW)
    rig.tap("email")
    rig.tap("next")
    assert rig.screen == "two_step_code"
    box = mailbox.Maildir(tmp_path / "alice.backup@example.com", create=False)
    (message,) = list(box)
    code = re.search(r"\d{7}", message.get_payload()).group(0)
    rig.type("code", "0000000" if code != "0000000" else "1111111")
    rig.tap("next")
    assert rig.screen == "two_step_code" and "didn't work" in (rig.ui.error or "")
    rig.type("code", code)
    rig.tap("next")
    assert rig.screen == "setup_done"


def test_two_step_needs_a_choice() -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.sign_in(ALICE, ALICE_PW)
    rig.tap("next")
    assert rig.screen == "two_step_choose" and rig.ui.error


def test_settings_path_lists_account_with_sync_status() -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.tap("sign_in_later")
    rig.finish_setup()
    rig.to_add_account()
    rig.tap("microsoft")
    assert rig.screen == "keep_your_life_in_sync"
    rig.sign_in(BOB, BOB_PW)
    assert rig.screen == "email_accounts"
    item = rig.ui.page(853).widget("microsoft_account")
    assert item is not None and BOB in item.sub and "syncing" in item.sub
    rig.run_timers()
    item = rig.ui.page(853).widget("microsoft_account")
    assert "email, contacts, calendar synced" in item.sub
    rig.tap("microsoft_account")
    assert rig.screen == "account_settings"
    rig.ui.back()
    assert rig.screen == "email_accounts"
    rig.ui.back()
    assert rig.screen == "settings"


@pytest.mark.parametrize("case", ["wrong_password", "unknown_account", "no_network"])
def test_failure_screens_and_try_again(case: str) -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.tap("sign_in")
    if case == "unknown_account":
        rig.type("email", "nobody@outlook.com")
        rig.tap("next")
        assert rig.screen == "unknown_account"
        rig.tap("try_again")
        assert rig.screen == "account_email"
        return
    rig.type("email", BOB)
    rig.tap("next")
    rig.type("password", "not-it" if case == "wrong_password" else BOB_PW)
    if case == "no_network":
        rig.ui.model.network_up = False
    rig.tap("sign_in")
    rig.run_timers()
    assert rig.screen == case
    rig.ui.model.network_up = True
    rig.tap("try_again")
    assert rig.screen == "account_password"
    rig.type("password", BOB_PW)
    rig.tap("sign_in")
    rig.run_timers()
    assert rig.screen == "setup_done"


def test_no_network_at_email_step() -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.ui.model.network_up = False
    rig.tap("sign_in")
    rig.type("email", BOB)
    rig.tap("next")
    assert rig.screen == "no_network"


def test_only_one_microsoft_account_per_phone() -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.sign_in(BOB, BOB_PW)
    rig.finish_setup()
    rig.to_add_account()
    rig.tap("microsoft")
    assert rig.screen == "one_account_only"
    text = " ".join(w.text for w in rig.ui.page(853).widgets)
    assert "reset your phone" in text
    rig.tap("ok")
    assert rig.screen == "add_account"
    assert rig.ui.model.ms_account == BOB


def test_back_key_and_start_key() -> None:
    rig = Rig()
    rig.tap("next")
    rig.tap("accept")
    rig.ui.back()
    assert rig.screen == "setup_terms"
    rig.ui.back()
    assert rig.screen == "setup_welcome"
    rig.ui.back()
    assert rig.screen == "setup_welcome"
    rig.ui.start_key()
    assert rig.screen == "setup_welcome"   # no start screen before setup is done


def test_typing_goes_to_the_focused_field_and_delete() -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.tap("sign_in")
    rig.ui.text("bob@outlook.comx\x07")
    rig.ui.delete()
    assert rig.ui.fields["email"] == BOB


def test_swipe_between_start_and_app_list() -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.tap("sign_in_later")
    rig.finish_setup()
    rig.ui.swipe(-300, 5)
    assert rig.screen == "app_list"
    rig.ui.swipe(300, 0)
    assert rig.screen == "start"


def test_every_screen_has_a_page() -> None:
    rig = Rig()
    for screen in SCREENS:
        rig.ui.go(screen, push=False, address=ALICE)
        page = rig.ui.page(800)
        assert page.name == screen and page.widgets


def test_logs_never_carry_secrets() -> None:
    rig = Rig()
    rig.through_setup_to_sync()
    rig.sign_in(ALICE, ALICE_PW)
    rig.two_step_by_text()
    code = rig.code()
    joined = "\n".join(rig.log)
    assert ALICE_PW not in joined and code not in joined and ALICE not in joined
    assert "signed in" in joined


def test_a_page_table_that_names_a_missing_screen_or_action_is_refused() -> None:
    """A typo in the page table fails when the UI is imported, naming the page and the widget, not at a tap."""
    from harness.emulator.page_parts import Do, PageSpec, check_table, go

    known = {"ok"}
    with pytest.raises(LookupError, match="page a: a tap on next goes to unknown screen 'setup_termz'"):
        check_table({"a": PageSpec(taps={"next": go("setup_termz")})}, known.__contains__)
    with pytest.raises(LookupError, match="page a: a tap on next runs unknown action 'sumbit'"):
        check_table({"a": PageSpec(taps={"next": Do("sumbit")})}, known.__contains__)
    check_table({"a": PageSpec(taps={"next": go("a"), "ok": Do("ok")})}, known.__contains__)


def test_a_tap_on_one_of_many_accounts_reaches_that_account() -> None:
    """``outlook:*`` in the table stands for every Outlook account's row; the tap opens the one tapped."""
    rig = Rig()
    rig.ui.model.setup_complete = True
    rig.ui.model.outlook = {"dave@outlook.com": False, "erin@outlook.com": True}
    rig.ui.go("email_accounts", push=False)
    rig.tap("outlook:dave@outlook.com")  # up to date: nothing to do
    assert rig.screen == "email_accounts"
    rig.tap("outlook:erin@outlook.com")
    assert rig.screen == "outlook_signin" and rig.ui.fields["email"] == "erin@outlook.com"
