"""The sign-in flows of the handset's help page, as plain functions.

Every step waits for the screen it expects (recognised by vision) and taps a
target that vision found; nothing here asks the handset where a button is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from harness.flows.codes import CodeSource, CodeUnreachable
from harness.flows.on_screen import check_signed_in, check_text_destination
from harness.accounts import Credentials
from harness.flows.runner import FlowError, FlowRunner
from harness.vision import Recognition

#: Setup screens before "keep your life in sync", and the button each one needs.
SETUP_STEPS = {"setup_welcome": "next", "setup_terms": "accept", "setup_settings": "recommended",
               "setup_region": "next"}
#: Most characters a field might hold when a flow must clear it first.
FIELD_CLEAR = 64
#: What a reboot (reset, update) adds to the wait for the first screen after it.
REBOOT_SECONDS = 30


@dataclass
class SignInResult:
    """What a flow saw at its end."""

    account: str
    final_screen: str
    two_step: bool = False
    restored: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _credentials(run: FlowRunner, account: Credentials, code: CodeSource | None,
                 done: Sequence[str], email_known: bool = False) -> tuple[Recognition, bool]:
    """account_email -> account_password -> [two-step] -> one of ``done``."""
    if not email_known:
        rec = run.expect("account_email")
        run.type_into(rec, "field:email", account.address)
        run.advance("account_email", "next", ["account_password"])
    rec = run.expect("account_password")
    run.type_into(rec, "field:password", account.password)
    since = time.time()
    rec = run.advance("account_password", "sign_in", ["two_step_choose", *done])
    if rec.screen != "two_step_choose":
        return rec, False
    if code is None:
        raise CodeUnreachable(f"{account.address} has two-step verification on, but no code source (modem or inbox) "
                              "was given")
    shown = rec
    rec = _choose(run, rec, code.method)
    check = getattr(code, "check_reaches", None)
    if callable(check):
        check(account)  # before the code is sent: a code that goes elsewhere fails now, not at the deadline
    if code.method == "text":
        check_text_destination(run, shown, code, account)  # and the number the phone shows is the modem's (OCR)
    rec = run.advance("two_step_choose", "next", ["two_step_code"])
    secret = code.wait_for_code(since=since, timeout=run.timeout)
    run.type_into(rec, "field:code", secret)
    rec = run.advance("two_step_code", "next", list(done))
    return rec, True


def _choose(run: FlowRunner, rec: Recognition, method: str) -> Recognition:
    """Select where the code goes (a selection stays on the same screen)."""
    run.tap(rec, method)
    run.artifacts.record("choose", screen=rec.screen, method=method)
    return rec


def walk_setup(run: FlowRunner) -> Recognition:
    """From wherever setup is, through its screens to 'keep your life in sync'."""
    order = list(SETUP_STEPS) + ["keep_your_life_in_sync"]
    while True:
        rec = run.expect(*order)
        if rec.screen == "keep_your_life_in_sync":
            return rec
        run.advance(rec.screen, SETUP_STEPS[rec.screen], [order[order.index(rec.screen) + 1]])


def sign_in_during_setup(run: FlowRunner, account: Credentials, code: CodeSource | None = None,
                         restore: bool = True) -> SignInResult:
    """Setup screens -> keep your life in sync -> sign in -> account screens -> start."""
    started = time.monotonic()
    walk_setup(run)
    run.advance("keep_your_life_in_sync", "sign_in", ["account_email"])
    rec, two_step = _credentials(run, account, code, ["restore_backup", "setup_done"])
    restored = False
    if rec.screen == "restore_backup":
        restored = restore
        rec = run.advance("restore_backup", "restore" if restore else "skip", ["setup_done"])
    rec = run.advance("setup_done", "next", ["start"])
    return SignInResult(account.address, rec.screen, two_step, restored, round(time.monotonic() - started, 2))


#: Where a phone that has not finished set-up may be (the start key does not leave them).
SETUP_SCREENS = (*SETUP_STEPS, "keep_your_life_in_sync", "setup_done")


def open_settings(run: FlowRunner) -> Recognition:
    """From Start (pressing the start key first) to Settings through the app list.

    A phone still in set-up has no Settings: set-up is finished first with
    no account ("sign in later"), and the steps say so.
    """
    run.press("start")
    rec = run.expect("start", *SETUP_SCREENS)
    if rec.screen != "start":
        run.note(f"the phone shows {rec.screen}: set-up is not finished; finishing it without an account "
                 "(sign in later) to reach Settings")
        finish_setup_without_account(run)
    run.advance("start", "all_apps", ["app_list"])
    return run.advance("app_list", "settings", ["settings"])


def sign_in_after_setup(run: FlowRunner, account: Credentials, code: CodeSource | None = None) -> SignInResult:
    """App list -> Settings -> Email+accounts -> Add an account -> Microsoft account -> keep your life in sync -> ..."""
    started = time.monotonic()
    open_settings(run)
    run.advance("settings", "email_accounts", ["email_accounts"])
    run.advance("email_accounts", "add_account", ["add_account"])
    rec = run.advance("add_account", "microsoft", ["keep_your_life_in_sync", "one_account_only"])
    if rec.screen == "one_account_only":
        raise FlowError("the handset already has a Microsoft account: only one per phone; a different one needs "
                        "a factory reset (see change_account)", rec.screen, rec.score, run.last_screenshot)
    run.advance("keep_your_life_in_sync", "sign_in", ["account_email"])
    rec, two_step = _credentials(run, account, code, ["email_accounts"])
    rec = run.advance("email_accounts", "microsoft_account", ["account_settings"])
    check_signed_in(run, rec, account)  # the account the phone shows is the one signed in (OCR)
    return SignInResult(account.address, rec.screen, two_step, seconds=round(time.monotonic() - started, 2))


def sign_in_again_after_update(run: FlowRunner, account: Credentials, code: CodeSource | None) -> SignInResult:
    """After 8.0 -> 8.1 with two-step on: sign in again -> password -> access code -> start."""
    started = time.monotonic()
    run.advance("sign_in_again", "sign_in", ["account_password"])
    rec, two_step = _credentials(run, account, code, ["start"], email_known=True)
    return SignInResult(account.address, rec.screen, two_step, seconds=round(time.monotonic() - started, 2))


def reauth_additional_accounts(run: FlowRunner, accounts: Sequence[Credentials]) -> list[SignInResult]:
    """Sign the additional Microsoft e-mail accounts in again (they say 'attention required')."""
    results = []
    open_settings(run)
    run.advance("settings", "email_accounts", ["email_accounts"])
    for account in accounts:
        started = time.monotonic()
        rec = run.expect("email_accounts")
        rec = run.advance("email_accounts", "attention_required", ["outlook_signin"])
        run.type_into(rec, "field:email", account.address, clear=FIELD_CLEAR)
        run.type_into(rec, "field:password", account.password, clear=FIELD_CLEAR)
        rec = run.advance("outlook_signin", "sign_in", ["email_accounts"])
        results.append(SignInResult(account.address, rec.screen, seconds=round(time.monotonic() - started, 2)))
    rec = run.expect("email_accounts")
    if "attention_required" in rec.targets:
        raise FlowError("an additional account still says 'attention required' after signing in again",
                        rec.screen, rec.score)
    return results


def add_outlook_account(run: FlowRunner, account: Credentials) -> SignInResult:
    """Email+accounts -> add an account -> Outlook.com: an additional Microsoft e-mail account."""
    started = time.monotonic()
    open_settings(run)
    run.advance("settings", "email_accounts", ["email_accounts"])
    run.advance("email_accounts", "add_account", ["add_account"])
    rec = run.advance("add_account", "outlook", ["outlook_signin"])
    run.type_into(rec, "field:email", account.address)
    run.type_into(rec, "field:password", account.password)
    rec = run.advance("outlook_signin", "sign_in", ["email_accounts"])
    return SignInResult(account.address, rec.screen, seconds=round(time.monotonic() - started, 2))


def back_up(run: FlowRunner) -> None:
    """Settings -> backup -> back up now."""
    open_settings(run)
    rec = run.advance("settings", "backup", ["backup"])
    run.tap(rec, "back_up_now")
    run.expect("backup", action="tapped back_up_now on backup")


def factory_reset(run: FlowRunner) -> None:
    """Settings -> about -> reset your phone -> yes; waits for setup to start again."""
    open_settings(run)
    run.advance("settings", "about", ["about"])
    run.advance("about", "reset", ["reset_confirm"])
    run.advance("reset_confirm", "yes", ["setup_welcome"], timeout=run.timeout + REBOOT_SECONDS)


def change_account(run: FlowRunner, new_account: Credentials, code: CodeSource | None = None,
                   after_backup: Callable[[], None] | None = None) -> SignInResult:
    """Change the Microsoft account: back up, factory reset, sign in with the other account, restore.

    ``after_backup`` runs between the backup and the reset (a test puts files there that must be lost).
    """
    back_up(run)
    if after_backup is not None:
        after_backup()
    factory_reset(run)
    return sign_in_during_setup(run, new_account, code, restore=True)


def finish_setup_without_account(run: FlowRunner) -> None:
    """Setup screens -> keep your life in sync -> sign in later -> start (a phone set up with no account)."""
    rec = run.expect(*SETUP_SCREENS)
    if rec.screen != "setup_done":
        walk_setup(run)
        run.advance("keep_your_life_in_sync", "sign_in_later", ["setup_done"])
    run.advance("setup_done", "next", ["start"])


def install_update(run: FlowRunner, expect_after: Sequence[str] = ("sign_in_again", "start")) -> Recognition:
    """Settings -> phone update -> install; waits through the reboot for the first screen after it."""
    open_settings(run)
    rec = run.advance("settings", "phone_update", ["phone_update"])
    if "install" not in rec.targets:
        raise FlowError("phone update offers nothing to install (is the phone on 8.0?)", rec.screen, rec.score,
                        run.last_screenshot)
    return run.advance("phone_update", "install", list(expect_after), timeout=run.timeout + REBOOT_SECONDS)
