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


def open_app(run: FlowRunner, target: str, then: list[str]) -> Recognition:
    """Start -> app list -> ``target`` (an app list target such as ``app:internet_explorer``) -> one of ``then``."""
    run.press("start")
    rec = run.expect("start", *SETUP_SCREENS)
    if rec.screen != "start":
        run.note(f"the phone shows {rec.screen}: set-up is not finished; finishing it without an account")
        finish_setup_without_account(run)
    run.advance("start", "all_apps", ["app_list"])
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
