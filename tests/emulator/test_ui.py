"""The UI state machine: every transition of both sign-in paths, and each rule the handset enforces."""

from __future__ import annotations

import re
from typing import Callable

import pytest

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.filesystem import FileSystem
from harness.emulator.sms import SmsNetwork, TextMessage
from harness.emulator.ui import SCREENS, PhoneModel, PhoneUI

ALICE, ALICE_PW = "alice@outlook.com", "correct-horse-battery"   # two-step, phone + email on file
BOB, BOB_PW = "bob@outlook.com", "swordfish-2014"                 # no two-step
DAVE, DAVE_PW = "dave@outlook.com", "hunter2-outlook"


class Rig:
    """A PhoneUI with a hand-cranked clock; taps go by widget id, which must be on the page."""

    def __init__(self, os_version: str = "8.1") -> None:
        self.sms = SmsNetwork()
        self.inbox: list[TextMessage] = []
        self.sms.register("+15550100", self.inbox.append)
        self.service = AccountService(load_accounts(DEMO_ACCOUNTS), self.sms)
        self.fs = FileSystem()
        self.timers: list[Callable[[], None]] = []
        self.log: list[str] = []
        self.restarts = 0
        self.ui = PhoneUI(PhoneModel(serial="SER1", os_version=os_version), self.service, self.fs,
                          lambda delay, fn: self.timers.append(fn), self.log.append)
        self.ui.restart = self._restart  # type: ignore[method-assign]
        self.ui.home()

    def _restart(self) -> None:
        self.restarts += 1
        self.ui.home()

    @property
    def screen(self) -> str:
        return self.ui.screen

    def tap(self, wid: str) -> None:
        page = self.ui.page(853)
        assert page.widget(wid) is not None, f"{wid!r} is not on {page.name}: {[w.id for w in page.widgets if w.id]}"
        self.ui.tap(wid)

    def type(self, field: str, text: str) -> None:
        self.tap(f"field:{field}")
        self.ui.text(text)

    def run_timers(self) -> None:
        """Fire the timers that are due now (not the ones they start)."""
        due, self.timers = self.timers, []
        for fn in due:
            fn()

    def code(self) -> str:
        match = re.search(r"\d{7}", self.inbox[-1].body)
        assert match
        return match.group(0)

    def through_setup_to_sync(self) -> None:
        assert self.screen == "setup_welcome"
        for screen, button in [("setup_welcome", "next"), ("setup_terms", "accept"),
                               ("setup_settings", "recommended"), ("setup_region", "next")]:
            assert self.screen == screen
            self.tap(button)
        assert self.screen == "keep_your_life_in_sync"

    def sign_in(self, address: str, password: str) -> None:
        self.tap("sign_in")
        assert self.screen == "account_email"
        self.type("email", address)
        self.tap("next")
        assert self.screen == "account_password"
        self.type("password", password)
        self.tap("sign_in")
        assert self.screen == "signing_in"
        self.run_timers()

    def two_step_by_text(self) -> None:
        assert self.screen == "two_step_choose"
        self.tap("text")
        self.tap("next")
        assert self.screen == "two_step_code"
        self.type("code", self.code())
        self.tap("next")

    def finish_setup(self) -> None:
        if self.screen == "restore_backup":
            self.tap("restore")
        assert self.screen == "setup_done"
        self.tap("next")
        assert self.screen == "start"

    def to_add_account(self) -> None:
        self.tap("all_apps")
        assert self.screen == "app_list"
        self.tap("settings")
        assert self.screen == "settings"
        self.tap("email_accounts")
        assert self.screen == "email_accounts"
        self.tap("add_account")
        assert self.screen == "add_account"


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
