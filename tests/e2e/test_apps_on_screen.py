"""The apps after sign-in, read from the screen only: ADB taps and swipes, vision names the page, OCR reads it.

The control socket is used only for what a lab does (deliver a mail to the account), never to read the result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from harness.accounts import Credentials
from harness.flows.signin import add_outlook_account, finish_setup_without_account, sign_in_after_setup

ACCOUNTS = Path(__file__).with_name("apps_accounts.toml")
GINA, HANK, IDA, JULES = tomllib.loads(ACCOUNTS.read_text())["account"]
SUBJECTS = [m["subject"] for m in GINA["mail"]]
#: What `harness unlocks` reports, as the issue names them.
UNLOCK_KEYS = ("store", "xbox", "music", "video", "facebook_chat", "feeds", "backup")

pytestmark = [pytest.mark.profile("lumia-930"), pytest.mark.theme("dark"),
              pytest.mark.emulator(accounts=str(ACCOUNTS), animation_ms=0, signin_delay=0.3, boot_time=0.6)]


def _ocr():  # type: ignore[no-untyped-def]
    ocr = pytest.importorskip("harness.vision.ocr")
    try:
        ocr.read_text(np.zeros((40, 120, 3), np.uint8))
    except ocr.OcrUnavailable as exc:
        pytest.skip(str(exc))
    return ocr


def _harness_json(*args: str) -> dict:
    """``harness ARGS --json`` as a user runs it; its stdout is one JSON object."""
    done = subprocess.run([sys.executable, "-m", "harness", *args, "--json"], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"harness {args[0]} exited {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def _says(got: list[str], want: list[str], ocr) -> bool:  # type: ignore[no-untyped-def]
    """The lists read from the screen say the expected ones, in order (OCR may misread a letter)."""
    return len(got) == len(want) and all(ocr.similarity(g, w) >= 0.85 for g, w in zip(got, want))


def _inboxes_say(shown: dict, want: dict[str, list[str]], ocr) -> bool:  # type: ignore[no-untyped-def]
    """``harness sync``'s inboxes are the expected accounts' (addresses as OCR read them), each with its own mail."""
    got = shown["inboxes"]
    return len(got) == len(want) and all(
        ocr.similarity(address, wanted) >= 0.9 and _says(subjects, want[wanted], ocr)
        for (address, subjects), wanted in zip(got.items(), want))


def _screen_says(handset, words: str, ocr) -> bool:  # type: ignore[no-untyped-def]
    return ocr.normalise(words) in ocr.normalise(ocr.read_text(handset.screenshot()[80:]))


def test_the_help_page_on_one_phone_unlocks_sync_new_mail_store_games_feeds_one_account_restore_and_reset(
        flow, handset, device, emulator_control) -> None:
    """Along one phone's life, everything read from its screen: unlocks before sign-in (all false), sign-in from
    Settings and an additional Outlook.com account, `harness unlocks`/`harness sync` (all true; mail of each
    account's own inbox, contacts and calendar of this file), new mail at the
    top, a Store install in the app list, gamerscore and avatar, feeds once connected, a second Microsoft account
    refused, a backup + factory reset + setup sign-in with the same account that brings the Store app back, then a
    reset and a setup sign-in with another account that gets nothing of the first."""
    from harness.flows import FlowError
    from harness.flows.app_lists import find_entry
    from harness.flows.help_page import connect_feeds, open_games, store_get_app, synced_lists, unlocks
    from harness.flows.signin import back_up, factory_reset, sign_in_during_setup

    ocr = _ocr()
    adb = ("--handset", f"adb-tcp://{device.endpoints['adb']}", "--timeout", "500")
    finish_setup_without_account(flow)
    assert unlocks(flow) == dict.fromkeys(UNLOCK_KEYS, False)
    assert store_get_app(flow, "netflix") is False and _screen_says(handset, "need a Microsoft account", ocr)

    sign_in_after_setup(flow, Credentials.of(GINA["address"], GINA["password"]))
    add_outlook_account(flow, Credentials.of(JULES["address"], JULES["password"]))
    assert _harness_json("unlocks", *adb) == dict.fromkeys(UNLOCK_KEYS, True)
    shown = _harness_json("sync", *adb)
    assert _says(shown["mail"], SUBJECTS[::-1], ocr), shown["mail"]   # newest first: the Microsoft account's
    assert _inboxes_say(shown, {GINA["address"]: SUBJECTS[::-1],   # and each account's own inbox
                                JULES["address"]: [m["subject"] for m in JULES["mail"]][::-1]}, ocr), shown["inboxes"]
    assert _says(shown["contacts"], sorted(c["name"] for c in GINA["contacts"]), ocr), shown["contacts"]
    assert _says(shown["calendar"], [e["title"] for e in sorted(GINA["events"], key=lambda e: e["when"])], ocr), \
        shown["calendar"]

    emulator_control.call("mail_deliver", to=GINA["address"], subject="Regatta starts at noon",
                          **{"from": "Sailing Club"})
    deadline = time.monotonic() + 60
    while not ocr.same_text((synced_lists(flow)["mail"] or [""])[0], "Regatta starts at noon"):
        assert time.monotonic() < deadline, "the new mail never showed at the top of the inbox"

    assert store_get_app(flow, "netflix") is True          # installed: the app list shows it
    games = open_games(flow)
    assert games == {"xbox": True, "gamerscore": GINA["gamerscore"], "avatar": True}, games
    posts = connect_feeds(flow)
    assert posts is not None and len(posts) == len(GINA["feeds"])
    for feed, post in zip(GINA["feeds"], posts):
        assert ocr.similarity(post, f"{feed['author']} · {feed['network']}: {feed['text']}") >= 0.8, posts
    with pytest.raises(FlowError) as refused:
        sign_in_after_setup(flow, Credentials.of(IDA["address"], IDA["password"]))
    assert refused.value.screen == "one_account_only" and _screen_says(handset, "only have one Microsoft account", ocr)

    back_up(flow)
    factory_reset(flow)  # the same account again in set-up: its backup brings the Store app back
    result = sign_in_during_setup(flow, Credentials.of(GINA["address"], GINA["password"]))
    assert result.restored, "the phone offered Gina no restore of her own backup"
    flow.press("start")
    flow.advance("start", "all_apps", ["app_list"])
    find_entry(flow, "app_list", "netflix")  # FlowError "no 'netflix' in the app_list list" when it did not come back

    factory_reset(flow)  # then another account: nothing of Gina's
    result = sign_in_during_setup(flow, Credentials.of(IDA["address"], IDA["password"]))
    assert not result.restored, "the phone offered Gina's backup to Ida"
    shown = _harness_json("sync", *adb)
    assert _says(shown["mail"], [IDA["mail"][0]["subject"]], ocr), shown
    assert _inboxes_say(shown, {IDA["address"]: [IDA["mail"][0]["subject"]]}, ocr), shown  # Jules's went too
    assert _says(shown["contacts"], [IDA["contacts"][0]["name"]], ocr), shown
    assert _says(shown["calendar"], [IDA["events"][0]["title"]], ocr), shown
    flow.press("start")
    flow.advance("start", "all_apps", ["app_list"])
    with pytest.raises(FlowError, match="no 'netflix'"):
        find_entry(flow, "app_list", "netflix")


def test_reset_password_in_internet_explorer_then_the_old_one_fails_and_the_new_one_signs_in(
        flow, sms_codes) -> None:
    from harness.flows import SignInFailed
    from harness.flows.help_page import reset_password

    new = Credentials.of(HANK["address"], "hank-new-pass-2")
    assert reset_password(flow, new, sms_codes).screen == "reset_done"
    with pytest.raises(SignInFailed) as info:
        sign_in_after_setup(flow, Credentials.of(HANK["address"], HANK["password"]))
    assert info.value.screen == "wrong_password"
    assert sign_in_after_setup(flow, new).final_screen == "account_settings"
