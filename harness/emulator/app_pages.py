"""The handset's apps as pages: Outlook mail, People, Calendar, Store, Games, Music, Video, Messaging.

What a Microsoft account unlocks (the phone's help page) decides what each
shows: without one, the Store, Games, Music, Video, People's feeds and
Facebook chat say that a Microsoft account is needed (with a way to sign
in); with one, they open. Mail, contacts and events are what the last sync
brought (``PhoneModel.synced``). Lists longer than the screen scroll by
whole items (``scrolled``), as the phone's lists do under a swipe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from harness.emulator.layout import CONTENT_WIDTH, MARGIN, SUB_SIZE, PageBuilder, Rect, Widget
from harness.emulator.page_parts import (
    AppBar, Do, InlineButton, Item, PageSpec, Section, Text, When,
)

if TYPE_CHECKING:
    from harness.emulator.ui import PhoneUI

#: Apps every phone has besides the sign-in ones (the app list shows them).
HUB_APPS = ("games", "music", "video")
#: Which page an app of the app list or a Start tile opens.
APP_PAGES = {"outlook": "mail", "people": "people", "calendar": "calendar", "store": "store", "games": "games",
             "music": "music", "video": "video", "messaging": "messaging", "internet explorer": "browser"}
#: Space kept free at the bottom of a scrolled list (the application bar's, when the page has one).
LIST_BOTTOM = 16
APP_BAR_HEIGHT = 72


def scrolled(ui: PhoneUI, b: PageBuilder, entries: Sequence[tuple[str, str, str]], size: int,
             bottom: float = LIST_BOTTOM) -> None:
    """Draw ``entries`` (widget id, text, sub) from ``b.y`` down, starting at the UI's scroll position.

    As many whole items as fit are drawn; the UI learns how many fit and how far the list can scroll, so a
    swipe up shows the next screenful and the last swipe stops at the end.
    """
    step = size + 16 + 8 + (SUB_SIZE + 6 if any(sub for _, _, sub in entries) else 0)
    fit = max(1, int((b.view_height - bottom - b.y + 8) // step))
    last = max(0, len(entries) - fit)
    first = min(ui.scroll, last)
    ui.scroll_limits = (fit, last)
    for wid, text, sub in entries[first:first + fit]:
        b.item(wid, text, sub=sub, size=size)


def _no_account(header: str, title: str, what: str, before: tuple[Any, ...] = ()) -> PageSpec:
    """What an app shows without a Microsoft account: why, and a sign-in button to 'keep your life in sync'."""
    return PageSpec(header=header, title=title,
                    parts=(*before, Text(f"You need a Microsoft account to {what}."),
                           InlineButton("sign_in", "sign in", primary=True)),
                    taps={"sign_in": Do("add_microsoft_account")})


# ---------------------------------------------------------------------- lists from the phone's state
def mail(ui: PhoneUI, b: PageBuilder) -> None:
    address, messages = ui.inbox()
    if len(ui.model.synced.get("inboxes", {})) > 1:  # whose inbox this is; a tap shows the next account's
        h = SUB_SIZE + 8
        b.page.widgets.append(Widget("text", Rect(MARGIN, b.y - 12, CONTENT_WIDTH, h), address, id="next_inbox",
                                     lines=(address,), size=SUB_SIZE, dim=True))
        b.y += h - 4
    if not messages:
        b.text("No email. Add an account in Settings > email+accounts." if not ui.model.ms_account else
               "Nothing in your inbox yet.", dim=True)
        return
    scrolled(ui, b, [(f"mail:{i}", m.sender, m.subject) for i, m in enumerate(messages)], 26,
             bottom=APP_BAR_HEIGHT + 8)


def contacts(ui: PhoneUI, b: PageBuilder) -> None:
    people = sorted(ui.model.synced.get("contacts", []), key=lambda c: c.name.lower())
    if not people:
        b.text("No contacts yet. Sign in with a Microsoft account to sync your contacts.", dim=True)
        return
    scrolled(ui, b, [(f"contact:{i}", c.name, c.phone) for i, c in enumerate(people)], 28, bottom=APP_BAR_HEIGHT + 8)


def whats_new(ui: PhoneUI, b: PageBuilder) -> None:
    posts = ui.model.synced.get("feeds", []) if ui.model.feeds_connected else []
    if not posts:
        b.text("Nothing new from your social networks yet.", dim=True)
        return
    scrolled(ui, b, [(f"post:{i}", f"{p.author} · {p.network}", p.text) for i, p in enumerate(posts)], 24)


def agenda(ui: PhoneUI, b: PageBuilder) -> None:
    events = sorted(ui.model.synced.get("events", []), key=lambda e: e.when)
    if not events:
        b.text("No events. Sign in with a Microsoft account to sync your calendar.", dim=True)
        return
    scrolled(ui, b, [(f"event:{i}", e.title, e.label()) for i, e in enumerate(events)], 28, bottom=APP_BAR_HEIGHT + 8)


def store_apps(ui: PhoneUI, b: PageBuilder) -> None:
    owned = set(ui.owned_apps())
    entries = []
    for app in ui.store_offer():
        state = "installed" if app in ui.model.apps else ("owned" if app in owned else "free")
        entries.append((f"store_app:{app}", app, state))
    scrolled(ui, b, entries, 26)


def store_app(ui: PhoneUI, b: PageBuilder) -> None:
    app = ui.ctx.get("app", "")
    b.text(app, size=32, dim=True)
    if app in ui.model.apps:
        b.text("Installed. Find it in the app list.", dim=True)
    else:
        b.text("Free. Installs on this phone and comes back with your backup after a reset.", dim=True)
        b.inline_button("install", "install", primary=True)


def gamerscore(ui: PhoneUI, b: PageBuilder) -> None:
    account = ui.service.find(ui.model.ms_account or "")
    b.avatar("avatar")
    b.text(f"gamerscore {account.gamerscore if account else 0}", size=28, dim=True)


# ---------------------------------------------------------------------- the pages
def pages() -> dict[str, PageSpec]:
    """The apps' pages, merged into the page table. ``NAME_no_account`` is what app NAME shows without a
    Microsoft account (``AppActions.open_page`` picks it), so vision tells the two apart by their looks."""
    return {
        "mail": PageSpec(
            header="outlook", title="inbox", parts=(Section(mail), AppBar((("sync", "sync"),))),
            taps={"sync": Do("sync_now"), "next_inbox": Do("next_inbox")}),
        "people": PageSpec(
            header="people", title="all",
            parts=(Item("whats_new", "what's new", size=28), Section(contacts),
                   AppBar((("search", "search"), ("add", "add")))),
            taps={"whats_new": Do("open_page"), "search": Do("not_modelled"), "add": Do("not_modelled")}),
        "whats_new": PageSpec(
            header="people", title="what's new",
            parts=(When(lambda ui: ui.model.feeds_connected, then=(Section(whats_new),),
                        otherwise=(Text("Connect Twitter and LinkedIn to see your friends' posts here.", dim=True),
                                   InlineButton("connect", "connect", primary=True))),),
            taps={"connect": Do("connect_feeds")}),
        "whats_new_no_account": _no_account("people", "social", "get Twitter and LinkedIn feeds in your People Hub"),
        "calendar": PageSpec(header="calendar", title="agenda", parts=(Section(agenda), AppBar((("today", "today"), ("add", "add")))),
                             taps={"today": Do("scroll_to_top"), "add": Do("not_modelled")}),
        "store": PageSpec(header="store", title="apps", parts=(Text("Top free apps for your phone."), Section(store_apps)),
                          taps={"store_app:*": Do("open_store_app")}),
        "store_no_account": _no_account("store", "store", "get apps from the Store"),
        "store_app": PageSpec(
            header="store", title="app details", parts=(Section(store_app),), taps={"install": Do("install_from_store")}),
        "games": PageSpec(header="games", title="xbox",
                          parts=(Text("Your Xbox profile: avatar and gamerscore."), Section(gamerscore))),
        "games_no_account": _no_account("games", "games", "get your Xbox gamerscore and avatar"),
        "music": PageSpec(
            header="music", title="my music",
            parts=(Item("albums", "albums"), Item("artists", "artists"), Item("songs", "songs"),
                   Item("playlists", "playlists"))),
        "music_no_account": _no_account("music", "music", "use Xbox Music"),
        "video": PageSpec(
            header="video", title="my videos",
            parts=(Item("movies", "movies"), Item("tv_shows", "tv shows"), Item("personal", "personal"))),
        "video_no_account": _no_account("video", "video", "use Xbox Video"),
        "messaging": PageSpec(
            header="messaging", title="threads",
            parts=(Item("facebook_chat", "Facebook chat", size=28),
                   Text("Chat with your Facebook friends who are online.", dim=True))),
        "messaging_no_account": _no_account("messaging", "messaging", "use Facebook chat",
                                            before=(Text("No conversations.", dim=True),)),
    }
