"""The Windows Phone 8.1 UI state machine of the emulated handset.

It knows every screen of the Microsoft-account sign-in flows (during setup
and from Settings), the failure screens, two-step verification, the
one-account-per-phone rule, backup and factory reset, and the 8.0 -> 8.1
update. Input arrives as widget ids (already hit-tested), keys and text;
the phone wraps it with pixels, power and time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from harness.emulator.accounts import AccountService, Backup, mask_email, mask_phone
from harness.emulator.filesystem import FileSystem
from harness.emulator.layout import Page, PageBuilder

#: Every screen the emulator can show, in flow order. These names are the
#: screen library's names too.
SCREENS: tuple[str, ...] = (
    "booting",
    "setup_welcome", "setup_terms", "setup_settings", "setup_region",
    "keep_your_life_in_sync",
    "account_email", "account_password", "signing_in",
    "two_step_choose", "two_step_code",
    "wrong_password", "unknown_account", "no_network",
    "restore_backup", "setup_done",
    "start", "app_list", "settings", "email_accounts", "add_account",
    "one_account_only", "outlook_signin", "account_settings",
    "backup", "about", "reset_confirm", "phone_update", "sign_in_again",
)

SYSTEM_APPS = ("alarms", "calculator", "calendar", "camera", "internet explorer", "messaging",
               "outlook", "people", "phone", "photos", "settings", "store")
DEFAULT_USER_APPS = ("here maps", "skype")
USER_DIRS = ("/sdcard/Documents", "/sdcard/Pictures", "/sdcard/Music", "/data/local/tmp")
SYNC_CATEGORIES = ("email", "contacts", "calendar")

#: Screens that the back key does not leave (roots and progress screens).
_NO_BACK = {"booting", "setup_welcome", "signing_in", "restore_backup", "setup_done", "start", "sign_in_again"}
#: Transient screens that never become a place to go back to.
_NOT_IN_HISTORY = {"booting", "signing_in"}


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


Scheduler = Callable[[float, Callable[[], None]], None]
Logger = Callable[[str], None]


class PhoneUI:
    """Screens and transitions; pure logic, no pixels, no clock of its own."""

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
        for d in USER_DIRS:
            fs.mkdirs(d)

    # ----------------------------------------------------------------- navigation
    def go(self, screen: str, push: bool = True, **ctx: str) -> None:
        if screen not in SCREENS:
            raise ValueError(f"unknown screen {screen!r}")
        if push and self.screen not in _NOT_IN_HISTORY and self.screen != screen:
            self.history.append(self.screen)
        self.screen = screen
        self.ctx.update(ctx)
        self.fields, self.choice, self.error = {}, None, None
        self.focus = {"account_email": "email", "account_password": "password", "two_step_code": "code",
                      "outlook_signin": "email"}.get(screen)
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

    def back(self) -> None:
        if self.screen in _NO_BACK or not self.history:
            return
        previous = self.history.pop()
        self.go(previous, push=False)

    # ----------------------------------------------------------------- input
    def tap(self, wid: str) -> None:
        """A tap landed on widget ``wid`` of the current page."""
        if wid.startswith("field:"):
            self.focus = wid.split(":", 1)[1]
            return
        handler = getattr(self, f"_tap_{self.screen}", None)
        if handler is not None:
            handler(wid)

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
        primary = {"account_email": "next", "account_password": "sign_in", "two_step_code": "next",
                   "outlook_signin": "sign_in"}.get(self.screen)
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

    # ----------------------------------------------------------------- setup
    def _tap_setup_welcome(self, wid: str) -> None:
        if wid == "next":
            self.go("setup_terms")

    def _tap_setup_terms(self, wid: str) -> None:
        if wid == "accept":
            self.go("setup_settings")

    def _tap_setup_settings(self, wid: str) -> None:
        if wid == "recommended":
            self.go("setup_region")

    def _tap_setup_region(self, wid: str) -> None:
        if wid == "next":
            self.go("keep_your_life_in_sync", purpose="setup")

    def _tap_keep_your_life_in_sync(self, wid: str) -> None:
        purpose = "settings" if self.model.setup_complete else "setup"
        if wid == "sign_in":
            self.go("account_email", purpose=purpose)
        elif wid == "sign_in_later":
            if purpose == "setup":
                self.go("setup_done", push=False)
            else:
                self.back()

    def _tap_setup_done(self, wid: str) -> None:
        if wid == "next":
            self.model.setup_complete = True
            self.log("setup: complete")
            self.home()

    def _tap_restore_backup(self, wid: str) -> None:
        if wid == "restore":
            backup = self.service.backup_for(self.model.serial)
            if backup is not None:
                for app in backup.apps:
                    if app not in self.model.apps:
                        self.model.apps.append(app)
                for path, data in backup.files.items():
                    self.fs.write(path, data)
                self.log(f"backup: restored {len(backup.apps)} apps and {len(backup.files)} files")
            self.go("setup_done", push=False)
        elif wid == "skip":
            self.go("setup_done", push=False)

    # ----------------------------------------------------------------- account screens
    def _tap_account_email(self, wid: str) -> None:
        if wid != "next":
            return
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

    def _tap_account_password(self, wid: str) -> None:
        if wid != "sign_in":
            return
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

    def _tap_wrong_password(self, wid: str) -> None:
        if wid == "try_again":
            self._retry()

    def _tap_unknown_account(self, wid: str) -> None:
        if wid == "try_again":
            self._retry()

    def _tap_no_network(self, wid: str) -> None:
        if wid == "try_again":
            self._retry()

    def _retry(self) -> None:
        target = self.ctx.get("retry", "account_email")
        while self.history and self.history[-1] != target:
            self.history.pop()
        if self.history:
            self.history.pop()
        self.go(target)

    def _tap_two_step_choose(self, wid: str) -> None:
        if wid in ("text", "email"):
            self.choice = wid
            self.error = None
        elif wid == "next":
            if self.choice is None:
                self.error = "Choose where to send the code."
                return
            if not self.model.network_up:
                self.go("no_network", retry="two_step_choose")
                return
            sent_to = self.service.send_code(self.ctx["address"], self.choice)
            self.log(f"account: access code sent by {self.choice} to {sent_to}")
            self.go("two_step_code", sent_to=sent_to)

    def _tap_two_step_code(self, wid: str) -> None:
        if wid != "next":
            return
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
            if self.service.backup_for(self.model.serial) is not None:
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
                self.log("sync: email, contacts and calendar synced")
        self.schedule(self.sync_delay, done)

    # ----------------------------------------------------------------- after setup
    def _tap_start(self, wid: str) -> None:
        if wid == "all_apps":
            self.go("app_list")
        elif wid == "settings":
            self.go("settings")

    def _tap_app_list(self, wid: str) -> None:
        if wid == "settings":
            self.go("settings")

    def _tap_settings(self, wid: str) -> None:
        if wid in ("email_accounts", "backup", "about", "phone_update"):
            self.go(wid)

    def _tap_email_accounts(self, wid: str) -> None:
        if wid == "add_account":
            self.go("add_account")
        elif wid == "microsoft_account" and self.model.ms_account:
            self.go("account_settings")
        elif wid.startswith("outlook:"):
            address = wid.split(":", 1)[1]
            if self.model.outlook.get(address):
                self.go("outlook_signin", purpose="outlook", prefill=address)

    def _tap_add_account(self, wid: str) -> None:
        if wid == "microsoft":
            if self.model.ms_account:
                self.log("account: refused a second Microsoft account")
                self.go("one_account_only")
            else:
                self.go("keep_your_life_in_sync", purpose="settings")
        elif wid == "outlook":
            self.go("outlook_signin", purpose="outlook", prefill="")

    def _tap_one_account_only(self, wid: str) -> None:
        if wid == "ok":
            self.back()

    def _tap_outlook_signin(self, wid: str) -> None:
        if wid != "sign_in":
            return
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

    def _tap_backup(self, wid: str) -> None:
        if wid != "back_up_now":
            return
        if not self.model.ms_account:
            self.error = "Sign in with a Microsoft account to back up."
            return
        files = {}
        for d in USER_DIRS[:3]:
            files.update(self.fs.files_under(d))
        backup = Backup(apps=list(self.model.apps), files=files)
        self.service.store_backup(self.model.serial, backup)
        self.model.last_backup = backup.taken_at
        self.log(f"backup: backed up {len(backup.apps)} apps and {len(files)} files")

    def _tap_about(self, wid: str) -> None:
        if wid == "reset":
            self.go("reset_confirm")

    def _tap_reset_confirm(self, wid: str) -> None:
        if wid == "yes":
            self.factory_reset()
        elif wid == "no":
            self.back()

    def _tap_phone_update(self, wid: str) -> None:
        if wid == "install" and self.model.os_version == "8.0":
            self.update_os("8.1")

    def _tap_sign_in_again(self, wid: str) -> None:
        if wid == "sign_in" and self.model.ms_account:
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
        b = PageBuilder(self.screen, view_height)
        getattr(self, f"_page_{self.screen}")(b)
        if self.error:
            b.text(self.error, error=True)
        return b.page

    def _field(self, b: PageBuilder, wid: str, label: str, secret: bool = False) -> None:
        b.field(f"field:{wid}", label, self.fields.get(wid, ""), secret=secret, focused=self.focus == wid)

    def _page_booting(self, b: PageBuilder) -> None:
        b.logo("windows phone")

    def _page_setup_welcome(self, b: PageBuilder) -> None:
        b.title("welcome")
        b.text("Let's get your phone set up. Choose a language to start.")
        b.item("language", "English (United States)", size=26, selected=True)
        b.buttons(("next", "next"))

    def _page_setup_terms(self, b: PageBuilder) -> None:
        b.header("windows phone")
        b.title("terms of use")
        b.text("By using this phone you agree to the Windows Phone terms of use and the Microsoft privacy statement.")
        b.buttons(("accept", "accept"))

    def _page_setup_settings(self, b: PageBuilder) -> None:
        b.header("windows phone")
        b.title("protect and update your phone")
        b.text("Recommended settings install updates automatically, send usage data and help find your phone.")
        b.buttons(("recommended", "recommended"))

    def _page_setup_region(self, b: PageBuilder) -> None:
        b.header("windows phone")
        b.title("region and time")
        b.text("Country/region: United States")
        b.text("Time zone: (UTC) Coordinated Universal Time")
        b.buttons(("next", "next"))

    def _page_keep_your_life_in_sync(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("keep your life in sync")
        b.text("Sign in with your Microsoft account to back up your phone and sync your email, contacts, "
               "calendar, photos and more.")
        b.buttons(("sign_in", "sign in"), ("sign_in_later", "sign in later"))

    def _page_account_email(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("sign in")
        b.text("Enter the email address of your Microsoft account.")
        self._field(b, "email", "Microsoft account")
        b.buttons(("next", "next"))

    def _page_account_password(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("enter password")
        b.text(f"Enter the password for {self.ctx.get('address', '')}", dim=True)
        self._field(b, "password", "Password", secret=True)
        b.buttons(("sign_in", "sign in"))

    def _page_signing_in(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("signing in")
        b.text("Just a moment, we're checking your info.")

    def _page_two_step_choose(self, b: PageBuilder) -> None:
        account = self.service.find(self.ctx.get("address", ""))
        b.header("microsoft account")
        b.title("help us protect your info")
        b.text("We'll send a security code to verify it's you. How would you like to get it?")
        if account is not None and account.phone:
            b.item("text", "Text", sub=mask_phone(account.phone), selected=self.choice == "text", size=28)
        if account is not None and account.email:
            b.item("email", "Email", sub=mask_email(account.email), selected=self.choice == "email", size=28)
        b.buttons(("next", "next"))

    def _page_two_step_code(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("enter the code")
        b.text(f"We sent a code to {self.ctx.get('sent_to', '')}. Enter it here to continue.", dim=True)
        self._field(b, "code", "Code")
        b.buttons(("next", "next"))

    def _page_wrong_password(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("that password is incorrect")
        b.text("Make sure you typed the password for your Microsoft account correctly.")
        b.buttons(("try_again", "try again"))

    def _page_unknown_account(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("that account doesn't exist")
        b.text("Enter a different email address or get a new Microsoft account.")
        b.buttons(("try_again", "try again"))

    def _page_no_network(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("can't connect")
        b.text("Check your network connection and try again. Make sure you have a data connection or Wi-Fi.")
        b.buttons(("try_again", "try again"))

    def _page_restore_backup(self, b: PageBuilder) -> None:
        b.header("windows phone")
        b.title("restore from a backup?")
        b.text("We found a backup for this phone. Restore your apps, settings and files?")
        b.buttons(("restore", "restore"), ("skip", "skip"))

    def _page_setup_done(self, b: PageBuilder) -> None:
        b.header("windows phone")
        b.title("all done")
        b.text("Your phone is ready. Apps and content will keep installing in the background.")
        b.buttons(("next", "next"))

    def _page_start(self, b: PageBuilder) -> None:
        b.y += 8
        b.tiles([("phone", "Phone"), ("people", "People"), ("messaging", "Messaging"), ("outlook", "Outlook"),
                 ("calendar", "Calendar"), ("store", "Store"), ("photos", "Photos"), ("settings", "Settings")])
        b.arrow("all_apps")

    def _page_app_list(self, b: PageBuilder) -> None:
        b.y += 6
        apps = sorted(set(SYSTEM_APPS) | set(self.model.apps))
        for app in apps:
            b.item("settings" if app == "settings" else f"app:{app}", app, size=24)

    def _page_settings(self, b: PageBuilder) -> None:
        b.header("settings")
        b.title("system")
        b.item("ringtones", "ringtones+sounds", size=30)
        b.item("email_accounts", "email+accounts", size=30)
        b.item("backup", "backup", size=30)
        b.item("phone_update", "phone update", size=30)
        b.item("about", "about", size=30)

    def _page_email_accounts(self, b: PageBuilder) -> None:
        b.header("settings")
        b.title("email+accounts")
        m = self.model
        if m.ms_account:
            if m.ms_needs_reauth:
                status = "sign in again"
            elif m.sync and all(v == "synced" for v in m.sync.values()):
                status = "email, contacts, calendar synced"
            else:
                status = "syncing..."
            b.item("microsoft_account", "Microsoft account", sub=f"{m.ms_account} · {status}", size=28)
        for address, needs in m.outlook.items():
            b.item(f"outlook:{address}", "Outlook", sub=f"{address} · {'attention required' if needs else 'up to date'}", size=28)
        b.item("add_account", "add an account", size=28)

    def _page_add_account(self, b: PageBuilder) -> None:
        b.header("settings")
        b.title("add an account")
        b.item("microsoft", "Microsoft account", size=28)
        b.item("outlook", "Outlook.com", size=28)
        b.item("exchange", "Exchange", size=28)
        b.item("google", "Google", size=28)

    def _page_one_account_only(self, b: PageBuilder) -> None:
        b.header("settings")
        b.title("only one microsoft account")
        b.text("You can only have one Microsoft account on this phone. To sign in with a different one, "
               "you need to reset your phone. Apps and files that aren't backed up will be lost.")
        b.buttons(("ok", "ok"))

    def _page_outlook_signin(self, b: PageBuilder) -> None:
        b.header("outlook.com")
        b.title("outlook.com")
        self._field(b, "email", "Email address")
        self._field(b, "password", "Password", secret=True)
        b.buttons(("sign_in", "sign in"))

    def _page_account_settings(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("sync settings")
        b.text(self.model.ms_account or "", dim=True)
        for category in SYNC_CATEGORIES:
            b.item(f"sync:{category}", category, sub=self.model.sync.get(category, "off"), size=28)

    def _page_backup(self, b: PageBuilder) -> None:
        b.header("settings")
        b.title("backup")
        b.text("Back up your app list, settings and files to OneDrive so you can restore them after a reset.")
        b.text("last backup: " + ("today" if self.model.last_backup else "never"), dim=True)
        b.inline_button("back_up_now", "back up now", primary=True)

    def _page_about(self, b: PageBuilder) -> None:
        b.header("settings")
        b.title("about")
        b.text(f"OS version: Windows Phone {self.model.os_version}", dim=True)
        b.text("Resetting restores factory settings; apps and files that aren't backed up are lost.")
        b.inline_button("reset", "reset your phone")

    def _page_reset_confirm(self, b: PageBuilder) -> None:
        b.header("settings")
        b.title("reset your phone?")
        b.text("This will restore factory settings. Your personal content will be erased, and apps and "
               "files that weren't backed up will be lost.")
        b.buttons(("yes", "yes"), ("no", "no"))

    def _page_phone_update(self, b: PageBuilder) -> None:
        b.header("settings")
        b.title("phone update")
        if self.model.os_version == "8.0":
            b.text("Windows Phone 8.1 is ready to install.")
            b.inline_button("install", "install", primary=True)
        else:
            b.text("Your phone is up to date.")

    def _page_sign_in_again(self, b: PageBuilder) -> None:
        b.header("microsoft account")
        b.title("sign in again")
        b.text("After the update, your Microsoft account needs you to sign in again to keep syncing.")
        b.text(self.model.ms_account or "", dim=True)
        b.buttons(("sign_in", "sign in"))
