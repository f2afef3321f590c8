"""The Windows Phone 8.1 UI state machine of the emulated handset.

It knows every screen of the Microsoft-account sign-in flows (during setup
and from Settings), the failure screens, two-step verification, the
one-account-per-phone rule, backup and factory reset, and the 8.0 -> 8.1
update. What each screen shows and where its buttons go is data
(``harness.emulator.pages``); this module holds the phone's state and the
actions that decide where to go. Input arrives as widget ids (already
hit-tested), keys and text; the phone wraps it with pixels, power and time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from harness.emulator.accounts import AccountService, mask_email
from harness.emulator.keyboard import KeyboardState, draw_keyboard, keyboard_tap
from harness.emulator.filesystem import FileSystem
from harness.emulator.layout import Page, PageBuilder
from harness.emulator.page_parts import Do, Go, check_table, draw
from harness.emulator.pages import PAGES, PIVOTS, SYNC_CATEGORIES
from harness.emulator.ui_apps import AppActions

#: Every screen the emulator can show, in flow order. These names are the
#: screen library's names too.
SCREENS: tuple[str, ...] = tuple(PAGES)

DEFAULT_USER_APPS = ("here maps", "skype")
USER_DIRS = ("/sdcard/Documents", "/sdcard/Pictures", "/sdcard/Music", "/data/local/tmp")


@dataclass
class PhoneModel:
    """What the phone remembers across screens, reboots and (partly) resets."""

    serial: str
    os_version: str
    setup_complete: bool = False
    ms_account: str | None = None
    ms_needs_reauth: bool = False
    outlook: dict[str, bool] = field(default_factory=dict)  # address -> needs sign-in again
    sync: dict[str, str] = field(default_factory=dict)
    apps: list[str] = field(default_factory=lambda: list(DEFAULT_USER_APPS))
    network_up: bool = True
    last_backup: float | None = None
    synced: dict[str, list] = field(default_factory=dict)  # what the last sync brought: mail, contacts, events, feeds
    feeds_connected: bool = False


Scheduler = Callable[[float, Callable[[], None]], None]
Logger = Callable[[str], None]


class _Blank(dict):
    """Values for a page's texts; one the phone does not have yet reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


class PhoneUI(AppActions):
    """Screens and transitions; pure logic, no pixels, no clock of its own (the apps' actions: ``ui_apps``)."""

    def __init__(self, model: PhoneModel, service: AccountService, fs: FileSystem,
                 schedule: Scheduler, log: Logger, signin_delay: float = 0.8, sync_delay: float = 1.5) -> None:
        self.model = model
        self.service = service
        self.fs = fs
        self.schedule = schedule
        self.log = log
        self.signin_delay = signin_delay
        self.sync_delay = sync_delay
        self.screen = "booting"
        self.history: list[str] = []
        self.fields: dict[str, str] = {}
        self.focus: str | None = None
        self.choice: str | None = None
        self.error: str | None = None
        self.ctx: dict[str, str] = {}
        self.generation = 0  # bumps on every screen change, so stale timers do nothing
        self.keyboard = KeyboardState()
        for d in USER_DIRS:
            fs.mkdirs(d)

    # ----------------------------------------------------------------- navigation
    def go(self, screen: str, push: bool = True, **ctx: str) -> None:
        """Show ``screen``; ``ctx`` (the account's address, the purpose of a sign-in) stays for later pages."""
        if screen not in PAGES:
            raise ValueError(f"unknown screen {screen!r}")
        if push and PAGES[self.screen].history and self.screen != screen:
            self.history.append(self.screen)
        self.screen = screen
        self.ctx.update(ctx)
        self.fields, self.choice, self.error = {}, None, None
        self.scroll, self.scroll_limits, self.app_bar_open = 0, (1, 0), False
        self.focus = PAGES[screen].focus
        self.keyboard.hide()
        if screen == "outlook_signin" and self.ctx.get("prefill"):
            self.fields["email"] = self.ctx["prefill"]
            self.focus = "password"
        self.generation += 1
        self.log(f"ui: screen {screen}")

    def home(self) -> None:
        """Where a finished boot or the start key lands."""
        self.history.clear()
        if not self.model.setup_complete:
            self.go("setup_welcome", push=False)
        elif self.model.ms_needs_reauth:
            self.go("sign_in_again", push=False)
        else:
            self.go("start", push=False)
        if self.model.ms_account or self.model.outlook:
            self.start_sync_loop()

    def back(self) -> None:
        """The back key: it closes the keyboard when it is up (as on an 8.1 phone), else leaves the page."""
        if self.keyboard.up:
            return self.keyboard.hide()
        if not PAGES[self.screen].back or not self.history:
            return
        previous = self.history.pop()
        self.go(previous, push=False)

    # ----------------------------------------------------------------- input
    def tap(self, wid: str) -> None:
        """A tap landed on widget ``wid`` of the current page: it goes where the page table says."""
        if keyboard_tap(self, wid):  # a text field, a key, the page outside the keyboard
            return
        if wid == "app_bar_more":
            self.app_bar_open = not self.app_bar_open
            return
        target = PAGES[self.screen].tap(wid)
        if isinstance(target, Go):
            self.go(target.screen, push=target.push, **dict(target.ctx))
        elif isinstance(target, Do):
            getattr(self, f"_on_{target.name}")(wid)

    def text(self, text: str) -> None:
        if self.focus is None:
            return
        clean = "".join(ch for ch in text if ch.isprintable())
        self.fields[self.focus] = self.fields.get(self.focus, "") + clean

    def delete(self) -> None:
        if self.focus is not None:
            self.fields[self.focus] = self.fields.get(self.focus, "")[:-1]

    def enter(self) -> None:
        """The keyboard's enter key presses the page's primary button."""
        primary = PAGES[self.screen].enter
        if primary:
            self.tap(primary)

    def start_key(self) -> None:
        if self.model.setup_complete and not self.model.ms_needs_reauth and self.screen not in ("signing_in", "booting"):
            self.history.clear()
            self.go("start", push=False)

    def swipe(self, dx: float, dy: float) -> None:
        if self.screen == "start" and dx < -100 and abs(dx) > abs(dy):
            self.go("app_list")
        elif self.screen == "app_list" and dx > 100 and abs(dx) > abs(dy):
            self.back()
        elif self.screen in PIVOTS and abs(dx) > 100 and abs(dx) > abs(dy):
            self.go(PIVOTS[self.screen], push=False)
        elif abs(dy) > 100 and abs(dy) > abs(dx):
            self.scroll_by(dy)

    # ----------------------------------------------------------------- actions: setup
    def _on_sign_in_from_sync(self, wid: str) -> None:
        self.go("account_email", purpose="settings" if self.model.setup_complete else "setup")

    def _on_sign_in_later(self, wid: str) -> None:
        if self.model.setup_complete:
            self.back()
        else:
            self.go("setup_done", push=False)

    def _on_finish_setup(self, wid: str) -> None:
        self.model.setup_complete = True
        self.log("setup: complete")
        self.home()

    # ----------------------------------------------------------------- actions: account screens
    def _on_submit_email(self, wid: str) -> None:
        address = self.fields.get("email", "").strip()
        if not address:
            self.error = "Enter the email address of your Microsoft account."
            return
        if not self.model.network_up:
            self.go("no_network", retry="account_email")
            return
        if self.service.find(address) is None:
            self.log("account: unknown account entered")
            self.go("unknown_account", retry="account_email")
            return
        self.go("account_password", address=address)

    def _on_submit_password(self, wid: str) -> None:
        password = self.fields.get("password", "")
        if not password:
            self.error = "Enter your password."
            return
        address = self.ctx["address"]
        self.log(f"account: signing in {mask_email(address)}")
        self._signing_in(lambda: self._after_password(address, password, "account_password"))

    def _signing_in(self, then: Callable[[], None]) -> None:
        self.go("signing_in", push=False)
        generation = self.generation

        def finish() -> None:
            if self.generation == generation:
                then()
        self.schedule(self.signin_delay, finish)

    def _after_password(self, address: str, password: str, retry: str) -> None:
        if not self.model.network_up:
            self.go("no_network", push=False, retry=retry)
        elif not self.service.check_password(address, password):
            self.log("account: password rejected")
            self.go("wrong_password", push=False, retry=retry)
        elif retry == "account_password" and self.service.find(address).two_step:  # type: ignore[union-attr]
            self.go("two_step_choose", push=False)
        else:
            self._signed_in(address)

    def _on_retry(self, wid: str) -> None:
        target = self.ctx.get("retry", "account_email")
        while self.history and self.history[-1] != target:
            self.history.pop()
        if self.history:
            self.history.pop()
        self.go(target)

    def _on_choose_destination(self, wid: str) -> None:
        self.choice = wid
        self.error = None

    def _on_send_code(self, wid: str) -> None:
        if self.choice is None:
            self.error = "Choose where to send the code."
            return
        if not self.model.network_up:
            self.go("no_network", retry="two_step_choose")
            return
        sent_to = self.service.send_code(self.ctx["address"], self.choice)
        self.log(f"account: access code sent by {self.choice} to {sent_to}")
        self.go("two_step_code", sent_to=sent_to)

    def _on_check_code(self, wid: str) -> None:
        code = self.fields.get("code", "")
        if self.service.verify_code(self.ctx["address"], code):
            self.log("account: access code accepted")
            self._signed_in(self.ctx["address"])
        else:
            self.log("account: access code rejected")
            self.fields["code"] = ""
            self.error = "That code didn't work. Check the code and try again."

    def _signed_in(self, address: str) -> None:
        purpose = self.ctx.get("purpose", "setup")
        self.log(f"account: signed in {mask_email(address)} ({purpose})")
        self.history.clear()
        if purpose == "outlook":
            self.model.outlook[address] = False
            self.sync_now()
            self.start_sync_loop()
            self.go("email_accounts", push=False)
            return
        if purpose == "reauth":
            self.model.ms_needs_reauth = False
            self._start_sync()
            self.home()
            return
        self.model.ms_account = address
        self._start_sync()
        if purpose == "setup":
            if self.service.backup_for(address, self.model.serial) is not None:
                self.go("restore_backup", push=False)
            else:
                self.go("setup_done", push=False)
        else:
            self.history[:] = ["settings"]
            self.go("email_accounts", push=False)

    def _start_sync(self) -> None:
        self.model.sync = {c: "syncing" for c in SYNC_CATEGORIES}

        def done() -> None:
            if self.model.ms_account:
                self.model.sync = {c: "synced" for c in SYNC_CATEGORIES}
                self.sync_now()
                self.log("sync: email, contacts and calendar synced")
                self.start_sync_loop()
        self.schedule(self.sync_delay, done)

    # ----------------------------------------------------------------- actions: after setup
    def _on_back(self, wid: str) -> None:
        self.back()

    def _on_open_microsoft_account(self, wid: str) -> None:
        if self.model.ms_account:
            self.go("account_settings")

    def _on_open_outlook_account(self, wid: str) -> None:
        address = wid.split(":", 1)[1]
        if self.model.outlook.get(address):
            self.go("outlook_signin", purpose="outlook", prefill=address)

    def _on_add_microsoft_account(self, wid: str) -> None:
        if self.model.ms_account:
            self.log("account: refused a second Microsoft account")
            self.go("one_account_only")
        else:
            self.go("keep_your_life_in_sync", purpose="settings")

    def _on_outlook_sign_in(self, wid: str) -> None:
        address = self.fields.get("email", "").strip()
        password = self.fields.get("password", "")
        if not address or not password:
            self.error = "Enter your email address and password."
            return
        if not self.model.network_up:
            self.go("no_network", retry="outlook_signin")
            return
        if self.service.find(address) is None:
            self.go("unknown_account", retry="outlook_signin")
            return
        self.ctx["address"] = address
        self._signing_in(lambda: self._after_password(address, password, "outlook_signin"))

    def _on_factory_reset(self, wid: str) -> None:
        self.factory_reset()

    def _on_install_update(self, wid: str) -> None:
        if self.model.os_version == "8.0":
            self.update_os("8.1")

    def _on_sign_in_again(self, wid: str) -> None:
        if self.model.ms_account:
            self.go("account_password", purpose="reauth", address=self.model.ms_account)

    # ----------------------------------------------------------------- whole-phone events
    #: Set by the phone: restart the handset (used by reset and update).
    restart: Callable[[], None] = staticmethod(lambda: None)  # type: ignore[assignment]

    def factory_reset(self) -> None:
        """Wipe accounts, settings, user apps and files; backups stay in the cloud."""
        self.log("reset: restoring factory settings")
        m = self.model
        m.setup_complete, m.ms_account, m.ms_needs_reauth = False, None, False
        m.outlook, m.sync, m.apps, m.last_backup = {}, {}, [], None
        m.synced, m.feeds_connected = {}, False
        for d in USER_DIRS:
            if self.fs.stat(d) is not None:
                self.fs.remove(d)
            self.fs.mkdirs(d)
        self.restart()

    def update_os(self, version: str) -> None:
        """Install an OS update; 8.0 -> 8.1 asks two-step accounts to sign in again."""
        m = self.model
        if version not in ("8.0", "8.1"):
            raise ValueError(f"unknown OS version {version!r}")
        old = m.os_version
        m.os_version = version
        if old == "8.0" and version == "8.1":
            account = self.service.find(m.ms_account) if m.ms_account else None
            if account is not None and account.two_step:
                m.ms_needs_reauth = True
            for address in m.outlook:
                m.outlook[address] = True
        self.log(f"update: OS {old} -> {version}")
        self.restart()

    # ----------------------------------------------------------------- pages
    def page(self, view_height: int) -> Page:
        """The current screen laid out for a view ``view_height`` pixels tall."""
        b = PageBuilder(self.screen, view_height)
        draw(PAGES[self.screen], b, self)
        if self.error:
            b.text(self.error, error=True)
        draw_keyboard(b, self.keyboard)
        return b.page

    def values(self) -> _Blank:
        """What a page's texts may name: the sign-in's context and the phone's state."""
        m = self.model
        return _Blank(self.ctx, ms_account=m.ms_account or "", os_version=m.os_version,
                      last_backup="today" if m.last_backup else "never")


# Every screen and action the page table names exists: a typo fails at import, not at a tap.
check_table(PAGES, lambda action: hasattr(PhoneUI, f"_on_{action}"))
