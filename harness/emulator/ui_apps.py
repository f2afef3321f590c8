"""What the phone's apps do: open from Start or the app list, sync, scroll, install from the Store, back up,
connect feeds, and reset a password in Internet Explorer.

A mixin of ``PhoneUI`` (``harness.emulator.ui``): the state machine holds the
sign-in flows, this holds what the help page says a Microsoft account unlocks.
Sync copies the account's mail, contacts, events and feeds onto the phone
(``PhoneModel.synced``) when the account is added and then every
``sync_interval`` seconds while the phone is on, so mail delivered later
shows up within an interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.emulator.account_data import STORE_CATALOGUE
from harness.emulator.accounts import Backup

if TYPE_CHECKING:
    from harness.emulator.ui import PhoneUI

_Base: Any = object
if TYPE_CHECKING:
    _Base = PhoneUI

#: User folders a backup keeps (the rest of USER_DIRS is scratch space).
BACKED_UP_DIRS = ("/sdcard/Documents", "/sdcard/Pictures", "/sdcard/Music")
#: The address Internet Explorer opens the Reset your password page at.
RESET_ADDRESS = "account.live.com/password/reset"


class AppActions(_Base):
    """The apps' actions (``_on_NAME`` for the page table's ``Do("NAME")``) and the sync loop."""

    sync_interval: float = 3.0
    scroll: int = 0
    #: (items a screen shows, the last first item) of the list on screen, set as it is drawn.
    scroll_limits: tuple[int, int] = (1, 0)
    app_bar_open: bool = False
    _sync_epoch: int = 0

    # ----------------------------------------------------------------- sync
    def sync_now(self) -> None:
        """Copy what the phone's accounts hold onto the phone (a sync)."""
        m = self.model
        accounts = ([m.ms_account] if m.ms_account and not m.ms_needs_reauth else []) + \
                   [a for a, needs in m.outlook.items() if not needs]
        inboxes = {a: sorted(self.service.mail_for(a), key=lambda msg: -msg.seq) for a in accounts}
        main = self.service.find(m.ms_account) if m.ms_account else None
        m.synced = {"inboxes": inboxes, "contacts": list(main.contacts) if main else [],
                    "events": list(main.events) if main else [], "feeds": list(main.feeds) if main else []}

    def start_sync_loop(self) -> None:
        """Sync every ``sync_interval`` seconds from now on (one loop: a new one ends the one before)."""
        self._sync_epoch += 1
        epoch = self._sync_epoch

        def tick() -> None:
            if epoch != self._sync_epoch or not (self.model.ms_account or self.model.outlook):
                return
            if all(v == "synced" for v in self.model.sync.values()):
                self.sync_now()
            self.schedule(self.sync_interval, tick)
        self.schedule(self.sync_interval, tick)

    def inbox(self) -> tuple[str, list]:
        """The account whose inbox Outlook shows (the one last switched to, else the first synced) and its mail,
        newest first. Each account keeps its own inbox, as on an 8.1 phone (no merged list)."""
        inboxes = self.model.synced.get("inboxes", {})
        address = self.ctx.get("inbox", "")
        if address not in inboxes:
            address = next(iter(inboxes), "")
        return address, inboxes.get(address, [])

    def _on_next_inbox(self, wid: str) -> None:
        """A tap on the account line of Outlook: the next account's inbox."""
        accounts = list(self.model.synced.get("inboxes", {}))
        if len(accounts) > 1:
            current, _ = self.inbox()
            self.ctx["inbox"] = accounts[(accounts.index(current) + 1) % len(accounts)]
            self.scroll = 0

    def _on_sync_now(self, wid: str) -> None:
        self.sync_now()
        self.log("sync: synced on request")

    # ----------------------------------------------------------------- opening apps, scrolling
    def open_app(self, app: str) -> bool:
        """Open ``app`` (from a tile or the app list); False when it has no page here."""
        from harness.emulator.app_pages import APP_PAGES

        page = APP_PAGES.get(app)
        if page is None:
            return False
        self._on_open_page(page)
        return True

    def _on_open_page(self, page: str) -> None:
        """Open an app's page: its ``_no_account`` variant when the phone has no Microsoft account."""
        from harness.emulator.pages import PAGES

        locked = f"{page}_no_account"
        self.go(locked if not self.model.ms_account and locked in PAGES else page)

    def _on_open_tile(self, wid: str) -> None:
        self.open_app(wid)

    def _on_open_app(self, wid: str) -> None:
        app = wid.split(":", 1)[1]
        if not self.open_app(app):
            self.log(f"apps: {app} opened (nothing to show)")

    def scroll_by(self, dy: float) -> bool:
        """A vertical swipe on a list: finger up shows the next screenful, down the one before. False if no list."""
        fit, last = self.scroll_limits
        if last <= 0 and self.scroll == 0:
            return False
        self.scroll = min(last, self.scroll + fit) if dy < 0 else max(0, self.scroll - fit)
        return True

    def _on_scroll_to_top(self, wid: str) -> None:
        """Calendar's 'today': the agenda from its first (the next) event again."""
        self.scroll = 0

    def _on_not_modelled(self, wid: str) -> None:
        """An application-bar button whose page this handset does not draw (a new contact, a search)."""
        self.log(f"apps: {self.screen} {wid} (not modelled)")

    # ----------------------------------------------------------------- what an account unlocks
    def owned_apps(self) -> list[str]:
        account = self.service.find(self.model.ms_account) if self.model.ms_account else None
        return list(account.apps) if account else []

    def store_offer(self) -> list[str]:
        """What the Store lists: the catalogue and the account's own apps, alphabetically."""
        return sorted(set(STORE_CATALOGUE) | set(self.owned_apps()))

    def _on_open_store_app(self, wid: str) -> None:
        self.go("store_app", app=wid.split(":", 1)[1])

    def _on_install_from_store(self, wid: str) -> None:
        app = self.ctx.get("app", "")
        if self.model.ms_account and app and app not in self.model.apps:
            self.model.apps.append(app)
            self.log(f"store: installed {app}")

    def _on_connect_feeds(self, wid: str) -> None:
        if self.model.ms_account:
            self.model.feeds_connected = True
            self.sync_now()
            self.log("people: Twitter and LinkedIn connected")

    # ----------------------------------------------------------------- backup
    def _on_back_up(self, wid: str) -> None:
        if not self.model.ms_account:
            self.error = "Sign in with a Microsoft account to back up."
            return
        files: dict[str, bytes] = {}
        for d in BACKED_UP_DIRS:
            files.update(self.fs.files_under(d))
        backup = Backup(apps=list(self.model.apps), files=files, serial=self.model.serial)
        self.service.store_backup(self.model.ms_account, backup)
        self.model.last_backup = backup.taken_at
        self.log(f"backup: backed up {len(backup.apps)} apps and {len(files)} files")

    def _on_restore_backup(self, wid: str) -> None:
        backup = self.service.backup_for(self.model.ms_account or "", self.model.serial)
        if backup is not None:
            for app in backup.apps:
                if app not in self.model.apps:
                    self.model.apps.append(app)
            for path, data in backup.files.items():
                self.fs.write(path, data)
            self.log(f"backup: restored {len(backup.apps)} apps and {len(backup.files)} files")
        self.go("setup_done", push=False)

    # ----------------------------------------------------------------- Internet Explorer: reset your password
    def _on_browse(self, wid: str) -> None:
        address = self.fields.get("address", "").strip().lower().removeprefix("https://").removeprefix("http://")
        if wid == "reset_link" or address.rstrip("/") == RESET_ADDRESS:
            self.go("reset_password")
        elif address:
            self.error = f"Can't find {address}. Check the address and try again."

    def _on_reset_submit_email(self, wid: str) -> None:
        address = self.fields.get("email", "").strip()
        if not self.model.network_up:
            self.error = "Can't reach account.live.com. Check your connection."
        elif self.service.find(address) is None:
            self.error = "That Microsoft account doesn't exist. Enter a different account."
        else:
            self.go("reset_choose", address=address)

    def _on_reset_send_code(self, wid: str) -> None:
        if self.choice is None:
            self.error = "Choose where to send the code."
            return
        sent_to = self.service.send_code(self.ctx["address"], self.choice)
        self.log(f"reset: security code sent by {self.choice} to {sent_to}")
        self.go("reset_code", sent_to=sent_to)

    def _on_reset_check_code(self, wid: str) -> None:
        if self.service.verify_code(self.ctx["address"], self.fields.get("code", "")):
            self.go("reset_new_password", push=False)
        else:
            self.fields["code"] = ""
            self.error = "That code didn't work. Check the code and try again."

    def _on_reset_set_password(self, wid: str) -> None:
        password = self.fields.get("password", "")
        if len(password) < 8:
            self.error = "Passwords must have at least 8 characters."
            return
        self.service.set_password(self.ctx["address"], password)
        self.log("reset: password changed")
        self.go("reset_done", push=False)
