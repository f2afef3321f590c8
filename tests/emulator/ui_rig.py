"""A PhoneUI with a hand-cranked clock, shared by the UI state-machine tests (test_ui.py, test_ui_reset_update.py)."""

from __future__ import annotations

import re
from typing import Callable

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
