"""Flows for the rest of the handset's help page: resetting a Microsoft account password in Internet Explorer.

Like the sign-in flows, every step waits for the screen it expects (vision)
and taps a target vision found on it; the code comes from a ``CodeSource``
(the modem or an inbox), never from the handset.
"""

from __future__ import annotations

import time

from harness.accounts import Credentials
from harness.flows.codes import CodeSource
from harness.flows.runner import FlowRunner
from harness.flows.signin import SETUP_SCREENS, finish_setup_without_account
from harness.vision import Recognition

#: Where the Microsoft account's "Reset your password" page lives.
RESET_ADDRESS = "account.live.com/password/reset"
#: Most swipes through the app list before an app not found there is an error.
APP_LIST_SWIPES = 4


def open_app(run: FlowRunner, target: str, then: list[str]) -> Recognition:
    """Start -> app list -> ``target`` (an app list target such as ``app:internet_explorer``) -> one of ``then``."""
    run.press("start")
    rec = run.expect("start", *SETUP_SCREENS)
    if rec.screen != "start":
        run.note(f"the phone shows {rec.screen}: set-up is not finished; finishing it without an account")
        finish_setup_without_account(run)
    rec = run.advance("start", "all_apps", ["app_list"])
    w, h = run.handset.info.width, run.handset.info.height
    for _ in range(APP_LIST_SWIPES):  # further down the list: swipe up until vision finds the app
        if target in rec.targets:
            break
        run.swipe(w // 2, int(h * 0.75), w // 2, int(h * 0.3), 200)
        rec = run.expect("app_list")
    return run.advance("app_list", target, then)


def reset_password(run: FlowRunner, account: Credentials, code: CodeSource) -> Recognition:
    """Internet Explorer -> account.live.com/password/reset -> the account -> a code by ``code.method`` ->
    ``account.password`` as the new password -> 'your password has been changed'."""
    rec = open_app(run, "app:internet_explorer", ["browser"])
    run.type_into(rec, "field:address", RESET_ADDRESS)
    rec = run.advance("browser", "go", ["reset_password"])
    run.type_into(rec, "field:email", account.address)
    rec = run.advance("reset_password", "next", ["reset_choose"])
    run.tap(rec, code.method)
    run.artifacts.record("choose", screen=rec.screen, method=code.method)
    since = time.time()
    rec = run.advance("reset_choose", "send", ["reset_code"])
    run.type_into(rec, "field:code", code.wait_for_code(since=since, timeout=run.timeout))
    rec = run.advance("reset_code", "next", ["reset_new_password"])
    run.type_into(rec, "field:password", account.password)
    return run.advance("reset_new_password", "next", ["reset_done"])


#: What a Microsoft account unlocks, as (key, app list target, the app's screen with an account).
#: Without one each app shows ``SCREEN_no_account`` instead.
UNLOCKS = (("store", "app:store", "store"), ("xbox", "app:games", "games"), ("music", "app:music", "music"),
           ("video", "app:video", "video"), ("facebook_chat", "app:messaging", "messaging"))


def unlocks(run: FlowRunner) -> dict[str, bool]:
    """Visit each app of the help page's list and say, from the screen it shows, whether it is usable:
    ``{"store": ..., "xbox": ..., "music": ..., "video": ..., "facebook_chat": ..., "feeds": ...}``."""
    out: dict[str, bool] = {}
    for key, target, screen in UNLOCKS:
        rec = open_app(run, target, [screen, f"{screen}_no_account"])
        out[key] = rec.screen == screen
    run.press("start")
    run.advance("start", "people", ["people"])
    rec = run.advance("people", "whats_new", ["whats_new", "whats_new_no_account"])
    out["feeds"] = rec.screen == "whats_new"
    return out
