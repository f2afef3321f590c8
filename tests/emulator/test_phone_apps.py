"""The apps a Microsoft account unlocks, synced mail/contacts/calendar, scrolling, the Store and password reset,
on the UI state machine with this test's own accounts (not the demo's)."""

from __future__ import annotations

import re

import pytest

from harness.emulator.accounts import AccountService, load_accounts

from ui_rig import Rig

ERIN, ERIN_PW = "erin@outlook.com", "erin-pass-1"
FRED, FRED_PW = "fred@outlook.com", "fred-pass-2"
SUBJECTS = [f"subject number {i:02d}" for i in range(1, 15)]   # 14: more than one screen
ACCOUNTS = f'''
[[account]]
address = "{ERIN}"
password = "{ERIN_PW}"
two_step = true
phone = "+15550100"
mail = [{", ".join(f'{{ from = "Sender {i:02d}", subject = "{s}" }}' for i, s in enumerate(SUBJECTS, 1))}]
contacts = [{{ name = "Zoe Quill", phone = "+15550999" }}, {{ name = "Adam Ant" }}]
events = [{{ title = "Later thing", when = "2026-12-20T10:00" }}, {{ title = "Sooner thing", when = "2026-12-02T08:15" }}]
apps = ["owned game"]
gamerscore = 777
feeds = [{{ network = "twitter", author = "@zoe", text = "tweet from zoe" }},
         {{ network = "linkedin", author = "Adam Ant", text = "adam changed jobs" }}]

[[account]]
address = "{FRED}"
password = "{FRED_PW}"
'''


@pytest.fixture
def rig(tmp_path) -> Rig:
    path = tmp_path / "accounts.toml"
    path.write_text(ACCOUNTS)
    r = Rig()
    r.service = r.ui.service = AccountService(load_accounts(path), r.sms)
    return r


def _texts(rig: Rig) -> list[str]:
    return [w.text for w in rig.ui.page(853).widgets if w.kind == "item"]


def _signed_in(rig: Rig, address: str = ERIN, password: str = ERIN_PW) -> None:
    rig.through_setup_to_sync()
    rig.sign_in(address, password)
    if rig.screen == "two_step_choose":
        rig.two_step_by_text()
    rig.run_timers()   # sync done
    rig.finish_setup()


def _open(rig: Rig, app: str) -> None:
    rig.ui.start_key()
    rig.tap("all_apps")
    for _ in range(5):   # swipe up through the app list until the app shows
        if rig.ui.page(853).widget(f"app:{app}") is not None:
            break
        rig.ui.swipe(0, -400)
    rig.tap(f"app:{app}")


def _scroll_to_end(rig: Rig, read) -> list:
    """Everything a list shows, swiping up until the screen stops changing (as a reader would)."""
    seen, before = list(read()), None
    for _ in range(20):
        page = rig.ui.page(853)
        if page.key() == before:
            return seen
        before = page.key()
        rig.ui.swipe(0, -400)
        seen += [t for t in read() if t not in seen]
    raise AssertionError("the list never stopped scrolling")


@pytest.mark.parametrize("app, locked", [("store", "store_no_account"), ("games", "games_no_account"),
                                         ("music", "music_no_account"), ("video", "video_no_account"),
                                         ("messaging", "messaging_no_account")])
def test_without_an_account_each_app_says_one_is_needed_and_offers_sign_in(rig, app, locked) -> None:
    rig.through_setup_to_sync()
    rig.tap("sign_in_later")
    rig.finish_setup()
    _open(rig, app)
    assert rig.screen == locked
    assert any("You need a Microsoft account" in w.text for w in rig.ui.page(853).widgets)
    rig.tap("sign_in")
    assert rig.screen == "keep_your_life_in_sync"


def test_mail_contacts_and_calendar_sync_from_the_account(rig) -> None:
    _signed_in(rig)
    rig.tap("outlook")   # the Start tile
    assert rig.screen == "mail"
    shown = _texts(rig)
    assert shown[0] == "Sender 14", shown   # newest first
    subjects = _scroll_to_end(rig, lambda: [w.sub for w in rig.ui.page(853).widgets if w.kind == "item"])
    assert subjects == list(reversed(SUBJECTS))
    rig.ui.start_key()
    rig.tap("people")
    assert _texts(rig) == ["what's new", "Adam Ant", "Zoe Quill"]
    rig.ui.start_key()
    rig.tap("calendar")
    assert _texts(rig) == ["Sooner thing", "Later thing"]
    assert [w.sub for w in rig.ui.page(853).widgets if w.kind == "item"] == ["Wed 2 Dec 08:15", "Sun 20 Dec 10:00"]


def test_mail_delivered_later_shows_after_a_sync_interval(rig) -> None:
    _signed_in(rig)
    rig.tap("outlook")
    rig.service.receive_mail(ERIN, "Late Sender", "arrived after sign-in")
    assert "Late Sender" not in _texts(rig)
    rig.run_timers()   # the next sync
    assert _texts(rig)[0] == "Late Sender"


def test_store_installs_an_app_that_survives_backup_reset_and_restore(rig) -> None:
    _signed_in(rig)
    rig.tap("store")
    offered = _scroll_to_end(rig, lambda: _texts(rig))
    assert "owned game" in offered and "netflix" in offered
    rig.ui.go("store", push=False)
    rig.tap("store_app:netflix")
    rig.tap("install")
    _open(rig, "netflix")   # it is in the app list now
    rig.ui.start_key()
    rig.tap("settings")
    rig.tap("backup")
    rig.tap("back_up_now")
    rig.ui.factory_reset()
    assert "netflix" not in rig.ui.model.apps
    rig.through_setup_to_sync()
    rig.sign_in(ERIN, ERIN_PW)
    rig.two_step_by_text()
    assert rig.screen == "restore_backup"
    rig.finish_setup()
    _open(rig, "netflix")


def test_games_shows_gamerscore_and_avatar_and_people_shows_feeds_once_connected(rig) -> None:
    _signed_in(rig)
    _open(rig, "games")
    page = rig.ui.page(853)
    assert any(w.kind == "avatar" for w in page.widgets) and any(w.text == "gamerscore 777" for w in page.widgets)
    rig.ui.start_key()
    rig.tap("people")
    rig.tap("whats_new")
    assert rig.screen == "whats_new" and not any(w.id and w.id.startswith("post:") for w in rig.ui.page(853).widgets)
    rig.tap("connect")
    assert _texts(rig) == ["@zoe · twitter", "Adam Ant · linkedin"]
    _open(rig, "messaging")
    assert "Facebook chat" in _texts(rig)


def test_another_account_sees_none_of_the_first_ones_data(rig) -> None:
    _signed_in(rig, FRED, FRED_PW)
    rig.tap("outlook")
    assert _texts(rig) == []
    _open(rig, "games")
    assert any(w.text == "gamerscore 0" for w in rig.ui.page(853).widgets)


def test_reset_password_in_internet_explorer_then_old_fails_and_new_signs_in(rig) -> None:
    rig.through_setup_to_sync()
    rig.tap("sign_in_later")
    rig.finish_setup()
    _open(rig, "internet explorer")
    assert rig.screen == "browser"
    rig.type("address", "https://account.live.com/password/reset")
    rig.tap("go")
    assert rig.screen == "reset_password"
    rig.type("email", ERIN)
    rig.tap("next")
    rig.tap("text")
    rig.tap("send")
    assert rig.screen == "reset_code"
    rig.type("code", rig.code())
    rig.tap("next")
    assert rig.screen == "reset_new_password"
    rig.type("password", "short")
    rig.tap("next")
    assert rig.screen == "reset_new_password" and "8 characters" in (rig.ui.error or "")
    rig.ui.fields.clear()
    rig.type("password", "brand-new-pass-9")
    rig.tap("next")
    assert rig.screen == "reset_done"
    rig.ui.start_key()
    rig.tap("all_apps")
    rig.tap("settings")
    rig.tap("email_accounts")
    rig.tap("add_account")
    rig.tap("microsoft")
    rig.sign_in(ERIN, ERIN_PW)
    assert rig.screen == "wrong_password"
    rig.tap("try_again")
    rig.type("password", "brand-new-pass-9")
    rig.tap("sign_in")
    rig.run_timers()
    assert rig.screen == "two_step_choose"
    assert re.search("password", " ".join(rig.log)) is not None and "brand-new-pass-9" not in " ".join(rig.log)


def test_settings_is_a_pivot_of_system_and_applications(rig) -> None:
    rig.through_setup_to_sync()
    rig.tap("sign_in_later")
    rig.finish_setup()
    rig.tap("settings")
    page = rig.ui.page(853)
    title = next(w for w in page.widgets if w.kind == "title")
    other = page.widget("pivot:applications")
    assert title.text == "system" and other is not None and other.rect.x > title.rect.x + title.rect.w
    assert other.rect.y == title.rect.y   # one line of headers
    rig.ui.swipe(-300, 0)
    assert rig.screen == "settings_applications"
    assert "store" in _texts(rig)
    rig.ui.swipe(300, 0)
    assert rig.screen == "settings"
    rig.tap("pivot:applications")
    assert rig.screen == "settings_applications"
    rig.tap("pivot:system")
    assert rig.screen == "settings"


def test_the_mail_app_bar_has_a_round_sync_button_and_dots_that_open_its_labels(rig) -> None:
    _signed_in(rig)
    rig.tap("outlook")
    page = rig.ui.page(853)
    bar = next(w for w in page.widgets if w.kind == "appbar")
    sync, dots = page.widget("sync"), page.widget("app_bar_more")
    assert sync.kind == "round" and sync.rect.w == sync.rect.h and bar.rect.y <= sync.rect.y
    assert dots.kind == "dots" and dots.rect.x > sync.rect.x
    assert not any(w.kind == "text" and w.text == "sync" for w in page.widgets)
    rig.tap("app_bar_more")
    assert any(w.kind == "text" and w.text == "sync" for w in rig.ui.page(853).widgets)


@pytest.mark.parametrize("tile,buttons", [("people", ("search", "add")), ("calendar", ("today", "add"))])
def test_people_and_calendar_have_app_bars_of_round_buttons_with_dots(rig, tile: str, buttons: tuple[str, ...]) -> None:
    _signed_in(rig)
    rig.tap(tile)
    page = rig.ui.page(853)
    bar = next(w for w in page.widgets if w.kind == "appbar")
    rounds = [page.widget(b) for b in buttons]
    assert all(r is not None and r.kind == "round" and r.rect.w == r.rect.h and r.rect.y >= bar.rect.y for r in rounds)
    items = [w for w in page.widgets if w.kind == "item"]
    assert items and max(w.rect.y + w.rect.h for w in items) <= bar.rect.y, "the list runs under the app bar"
    rig.tap("app_bar_more")
    labels = {w.text for w in rig.ui.page(853).widgets if w.kind == "text"}
    assert set(buttons) <= labels


def test_an_additional_outlook_account_syncs_its_own_inbox_not_a_merged_list() -> None:
    import tomllib

    from harness.emulator.accounts import DEMO_ACCOUNTS
    from ui_rig import ALICE, ALICE_PW, DAVE, DAVE_PW

    demo = {a["address"]: a for a in tomllib.loads(DEMO_ACCOUNTS.read_text())["account"]}
    rig = Rig()
    rig.through_setup_to_sync()
    rig.sign_in(ALICE, ALICE_PW)
    rig.two_step_by_text()
    rig.run_timers()
    rig.finish_setup()
    rig.to_add_account()
    rig.tap("outlook")
    rig.type("email", DAVE)
    rig.type("password", DAVE_PW)
    rig.tap("sign_in")
    rig.run_timers()
    rig.ui.start_key()
    rig.tap("outlook")

    def inbox() -> tuple[str, list[str]]:
        page = rig.ui.page(4000)  # tall enough for every message
        return page.widget("next_inbox").text, [w.sub for w in page.widgets if w.kind == "item"]
    for address in (ALICE, DAVE, ALICE):
        shown, subjects = inbox()
        assert shown == address and subjects == [m["subject"] for m in demo[address]["mail"]][::-1], (shown, subjects)
        rig.tap("next_inbox")
