"""Every screen of the emulated Windows Phone 8.1 handset, as data, in flow order.

Adding a screen is adding an entry: what it shows (header, title, parts) and
where each of its widgets leads (``go`` to a screen, or ``Do`` an action of
``PhoneUI`` that decides, e.g. after checking a password). The names are the
screen library's names too (``fixtures/screens/NAME.toml``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.emulator import app_pages, web_pages
from harness.emulator.accounts import mask_email, mask_phone
from harness.emulator.app_pages import scrolled
from harness.emulator.layout import PageBuilder
from harness.emulator.page_parts import (
    Arrow, Buttons, Do, Field, Gap, InlineButton, Item, Logo, PageSpec, Pivot, Section, Text, Tiles, When, go,
)

if TYPE_CHECKING:
    from harness.emulator.ui import PhoneUI

#: The apps every phone has (the app list adds the user's).
SYSTEM_APPS = ("alarms", "calculator", "calendar", "camera", "games", "internet explorer", "messaging", "music",
               "outlook", "people", "phone", "photos", "settings", "store", "video")
#: Pivots a horizontal swipe moves between.
PIVOTS = {"settings": "settings_applications", "settings_applications": "settings"}
#: What a Microsoft account syncs to the phone.
SYNC_CATEGORIES = ("email", "contacts", "calendar")


# ---------------------------------------------------------------------- parts the phone's state lists
def code_destinations(ui: PhoneUI, b: PageBuilder) -> None:
    """Where two-step verification can send a code: the account's phone and e-mail on file, masked."""
    account = ui.service.find(ui.ctx.get("address", ""))
    if account is not None and account.phone:
        b.item("text", "Text", sub=mask_phone(account.phone), selected=ui.choice == "text", size=28)
    if account is not None and account.email:
        b.item("email", "Email", sub=mask_email(account.email), selected=ui.choice == "email", size=28)


def apps(ui: PhoneUI, b: PageBuilder) -> None:
    """The app list: system and user apps, alphabetically (it scrolls when they do not fit)."""
    scrolled(ui, b, [("settings" if app == "settings" else f"app:{app}", app, "")
                     for app in sorted(set(SYSTEM_APPS) | set(ui.model.apps))], 24)


def accounts(ui: PhoneUI, b: PageBuilder) -> None:
    """The Microsoft account (with its sync state) and the Outlook accounts on the phone."""
    m = ui.model
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


def sync_categories(ui: PhoneUI, b: PageBuilder) -> None:
    for category in SYNC_CATEGORIES:
        b.item(f"sync:{category}", category, sub=ui.model.sync.get(category, "off"), size=28)


def update_available(ui: PhoneUI) -> bool:
    return ui.model.os_version == "8.0"


# ---------------------------------------------------------------------- the table

_NEXT = Buttons((("next", "next"),))
_TRY_AGAIN = Buttons((("try_again", "try again"),))
_RETRY = {"try_again": Do("retry")}

PAGES: dict[str, PageSpec] = {
    "booting": PageSpec(parts=(Logo("windows phone"),), back=False, history=False),

    # ------------------------------------------------------------------ setup
    "setup_welcome": PageSpec(
        title="welcome",
        parts=(Text("Let's get your phone set up. Choose a language to start."),
               Item("language", "English (United States)", size=26, selected=True), _NEXT),
        taps={"next": go("setup_terms")}, back=False),
    "setup_terms": PageSpec(
        header="windows phone", title="terms of use",
        parts=(Text("By using this phone you agree to the Windows Phone terms of use and the Microsoft privacy "
                    "statement."),
               Buttons((("accept", "accept"),))),
        taps={"accept": go("setup_settings")}),
    "setup_settings": PageSpec(
        header="windows phone", title="protect and update your phone",
        parts=(Text("Recommended settings install updates automatically, send usage data and help find your phone."),
               Buttons((("recommended", "recommended"),))),
        taps={"recommended": go("setup_region")}),
    "setup_region": PageSpec(
        header="windows phone", title="region and time",
        parts=(Text("Country/region: United States"), Text("Time zone: (UTC) Coordinated Universal Time"), _NEXT),
        taps={"next": go("keep_your_life_in_sync", purpose="setup")}),
    "keep_your_life_in_sync": PageSpec(
        header="microsoft account", title="keep your life in sync",
        parts=(Text("Sign in with your Microsoft account to back up your phone and sync your email, contacts, "
                    "calendar, photos and more."),
               Buttons((("sign_in", "sign in"), ("sign_in_later", "sign in later")))),
        taps={"sign_in": Do("sign_in_from_sync"), "sign_in_later": Do("sign_in_later")}),

    # ------------------------------------------------------------------ account screens
    "account_email": PageSpec(
        header="microsoft account", title="sign in",
        parts=(Text("Enter the email address of your Microsoft account."), Field("email", "Microsoft account"), _NEXT),
        taps={"next": Do("submit_email")}, focus="email", enter="next"),
    "account_password": PageSpec(
        header="microsoft account", title="enter password",
        parts=(Text("Enter the password for {address}", dim=True), Field("password", "Password", secret=True),
               Buttons((("sign_in", "sign in"),))),
        taps={"sign_in": Do("submit_password")}, focus="password", enter="sign_in"),
    "signing_in": PageSpec(
        header="microsoft account", title="signing in",
        parts=(Text("Just a moment, we're checking your info."),), back=False, history=False),
    "two_step_choose": PageSpec(
        header="microsoft account", title="help us protect your info",
        parts=(Text("We'll send a security code to verify it's you. How would you like to get it?"),
               Section(code_destinations), _NEXT),
        taps={"text": Do("choose_destination"), "email": Do("choose_destination"), "next": Do("send_code")}),
    "two_step_code": PageSpec(
        header="microsoft account", title="enter the code",
        parts=(Text("We sent a code to {sent_to}. Enter it here to continue.", dim=True), Field("code", "Code"), _NEXT),
        taps={"next": Do("check_code")}, focus="code", enter="next"),
    "wrong_password": PageSpec(
        header="microsoft account", title="that password is incorrect",
        parts=(Text("Make sure you typed the password for your Microsoft account correctly."), _TRY_AGAIN),
        taps=_RETRY),
    "unknown_account": PageSpec(
        header="microsoft account", title="that account doesn't exist",
        parts=(Text("Enter a different email address or get a new Microsoft account."), _TRY_AGAIN),
        taps=_RETRY),
    "no_network": PageSpec(
        header="microsoft account", title="can't connect",
        parts=(Text("Check your network connection and try again. Make sure you have a data connection or Wi-Fi."),
               _TRY_AGAIN),
        taps=_RETRY),
    "restore_backup": PageSpec(
        header="windows phone", title="restore from a backup?",
        parts=(Text("We found a backup for this phone. Restore your apps, settings and files?"),
               Buttons((("restore", "restore"), ("skip", "skip")))),
        taps={"restore": Do("restore_backup"), "skip": go("setup_done", push=False)}, back=False),
    "setup_done": PageSpec(
        header="windows phone", title="all done",
        parts=(Text("Your phone is ready. Apps and content will keep installing in the background."), _NEXT),
        taps={"next": Do("finish_setup")}, back=False),

    # ------------------------------------------------------------------ after setup
    "start": PageSpec(
        parts=(Gap(8),
               Tiles((("phone", "Phone"), ("people", "People"), ("messaging", "Messaging"), ("outlook", "Outlook"),
                      ("calendar", "Calendar"), ("store", "Store"), ("photos", "Photos"), ("settings", "Settings"))),
               Arrow("all_apps")),
        taps={"all_apps": go("app_list"), "settings": go("settings"),
              **{tile: Do("open_tile") for tile in ("people", "messaging", "outlook", "calendar", "store")}},
        back=False),
    "app_list": PageSpec(parts=(Gap(6), Section(apps)), taps={"settings": go("settings"), "app:*": Do("open_app")}),
    "settings": PageSpec(
        header="settings",
        parts=(Pivot("system", ("applications",)),
               Item("ringtones", "ringtones+sounds", size=30), Item("email_accounts", "email+accounts", size=30),
               Item("backup", "backup", size=30), Item("phone_update", "phone update", size=30),
               Item("about", "about", size=30)),
        taps={**{screen: go(screen) for screen in ("email_accounts", "backup", "about", "phone_update")},
              "pivot:applications": go("settings_applications", push=False)}),
    "settings_applications": PageSpec(
        header="settings",
        parts=(Pivot("applications", ("system",)),
               *(Item("app_settings:" + app.replace(" ", "_").replace("+", "_"), app, size=30) for app in ("games", "internet explorer", "messaging",
                                                                        "music+videos", "people", "store"))),
        taps={"pivot:system": go("settings", push=False)}),
    "email_accounts": PageSpec(
        header="settings", title="email+accounts",
        parts=(Section(accounts), Item("add_account", "add an account", size=28)),
        taps={"add_account": go("add_account"), "microsoft_account": Do("open_microsoft_account"),
              "outlook:*": Do("open_outlook_account")}),
    "add_account": PageSpec(
        header="settings", title="add an account",
        parts=(Item("microsoft", "Microsoft account", size=28), Item("outlook", "Outlook.com", size=28),
               Item("exchange", "Exchange", size=28), Item("google", "Google", size=28)),
        taps={"microsoft": Do("add_microsoft_account"), "outlook": go("outlook_signin", purpose="outlook", prefill="")}),
    "one_account_only": PageSpec(
        header="settings", title="only one microsoft account",
        parts=(Text("You can only have one Microsoft account on this phone. To sign in with a different one, "
                    "you need to reset your phone. Apps and files that aren't backed up will be lost."),
               Buttons((("ok", "ok"),))),
        taps={"ok": Do("back")}),
    "outlook_signin": PageSpec(
        header="outlook.com", title="outlook.com",
        parts=(Field("email", "Email address"), Field("password", "Password", secret=True),
               Buttons((("sign_in", "sign in"),))),
        taps={"sign_in": Do("outlook_sign_in")}, focus="email", enter="sign_in"),
    "account_settings": PageSpec(
        header="microsoft account", title="sync settings",
        parts=(Text("{ms_account}", dim=True), Section(sync_categories))),
    "backup": PageSpec(
        header="settings", title="backup",
        parts=(Text("Back up your app list, settings and files to OneDrive so you can restore them after a reset."),
               Text("last backup: {last_backup}", dim=True), InlineButton("back_up_now", "back up now", primary=True)),
        taps={"back_up_now": Do("back_up")}),
    "about": PageSpec(
        header="settings", title="about",
        parts=(Text("OS version: Windows Phone {os_version}", dim=True),
               Text("Resetting restores factory settings; apps and files that aren't backed up are lost."),
               InlineButton("reset", "reset your phone")),
        taps={"reset": go("reset_confirm")}),
    "reset_confirm": PageSpec(
        header="settings", title="reset your phone?",
        parts=(Text("This will restore factory settings. Your personal content will be erased, and apps and "
                    "files that weren't backed up will be lost."),
               Buttons((("yes", "yes"), ("no", "no")))),
        taps={"yes": Do("factory_reset"), "no": Do("back")}),
    "phone_update": PageSpec(
        header="settings", title="phone update",
        parts=(When(update_available,
                    then=(Text("Windows Phone 8.1 is ready to install."), InlineButton("install", "install", primary=True)),
                    otherwise=(Text("Your phone is up to date."),)),),
        taps={"install": Do("install_update")}),
    "sign_in_again": PageSpec(
        header="microsoft account", title="sign in again",
        parts=(Text("After the update, your Microsoft account needs you to sign in again to keep syncing."),
               Text("{ms_account}", dim=True), Buttons((("sign_in", "sign in"),))),
        taps={"sign_in": Do("sign_in_again")}, back=False),
}
#: The apps and the browser (what a Microsoft account unlocks, the Reset your password page).
PAGES.update(app_pages.pages())
PAGES.update(web_pages.pages())
