"""The project's named flows (``harness signin --flow NAME``) and loading a lab's own (``harness run-flow``).

A flow run from the command line is a function ``flow(run, ctx)``: ``run``
is the FlowRunner on the handset, ``ctx`` the accounts and code sources the
command line gave. What it returns is printed; what it raises decides the
exit code (see ``harness signin --help``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.accounts import Credentials
from harness.errors import HarnessError
from harness.flows.codes import CodeSource
from harness.flows.runner import FlowRunner
from harness.flows.signin import (
    SETUP_SCREENS,
    SignInResult,
    add_outlook_account,
    change_account,
    install_update,
    reauth_additional_accounts,
    sign_in_after_setup,
    sign_in_again_after_update,
    sign_in_during_setup,
)


class FlowUsageError(HarnessError):
    """A flow was asked for without what it needs (an account, a module:function that exists)."""


class AccountNeeded(FlowUsageError):
    """A flow needs an account it was not given: ``role`` is which ("account", "previous"), ``why`` says why.

    The front door that runs the flow words how to give it (its own option names).
    """

    def __init__(self, role: str, why: str) -> None:
        self.role, self.why = role, why
        super().__init__(f"{why}: no {role} account was given")


@dataclass
class FlowContext:
    """What the command line gives a flow besides its FlowRunner."""

    account: Credentials | None = None
    additional: list[Credentials] = field(default_factory=list)
    previous: Credentials | None = None
    codes: Callable[[Credentials], CodeSource | None] = lambda account: None
    params: dict[str, str] = field(default_factory=dict)

    def need_account(self) -> Credentials:
        """The account the flow signs in; ``AccountNeeded`` when the run names none."""
        if self.account is None:
            raise AccountNeeded("account", "this flow signs an account in")
        return self.account

    def code_for(self, account: Credentials) -> CodeSource | None:
        """Where the access code of ``account`` can be read (the modem, or the inbox of its e-mail on file)."""
        return self.codes(account)


Flow = Callable[[FlowRunner, FlowContext], Any]


def setup_flow(run: FlowRunner, ctx: FlowContext) -> SignInResult:
    """Sign in during set-up: set-up screens -> keep your life in sync -> account screens -> Start."""
    account = ctx.need_account()
    return sign_in_during_setup(run, account, ctx.code_for(account))


def settings_flow(run: FlowRunner, ctx: FlowContext) -> SignInResult:
    """Sign in from Settings > email+accounts (a phone still in set-up finishes it without an account first)."""
    account = ctx.need_account()
    return sign_in_after_setup(run, account, ctx.code_for(account))


def after_update_flow(run: FlowRunner, ctx: FlowContext) -> SignInResult:
    """8.0 -> 8.1: install the update, sign in again (access code if two-step), sign the --additional accounts in again.

    A phone still in set-up signs the account in first; --additional Outlook.com accounts are added before the
    update. A phone already asking to sign in again starts there.
    """
    account = ctx.need_account()
    rec = run.expect("sign_in_again", "start", *SETUP_SCREENS)
    if rec.screen in SETUP_SCREENS:
        run.note("the phone is in set-up: signing the account in first, then updating")
        sign_in_during_setup(run, account, ctx.code_for(account))
    if rec.screen != "sign_in_again":
        for extra in ctx.additional:
            add_outlook_account(run, extra)
        rec = install_update(run)
    if rec.screen == "sign_in_again":
        result = sign_in_again_after_update(run, account, ctx.code_for(account))
    else:
        run.note("the phone did not ask to sign in again (no two-step verification on this account)")
        result = SignInResult(account.address, rec.screen)
    if ctx.additional:
        again = reauth_additional_accounts(run, ctx.additional)
        result.notes.append(f"signed in again: {', '.join(r.account for r in again)}")
    return result


def add_outlook_flow(run: FlowRunner, ctx: FlowContext) -> SignInResult:
    """Add --account as an additional Outlook.com e-mail account (Settings > email+accounts > add an account)."""
    return add_outlook_account(run, ctx.need_account())


def change_account_flow(run: FlowRunner, ctx: FlowContext) -> SignInResult:
    """Change the Microsoft account: back up, factory reset, sign --account in during set-up, restore the backup.

    A phone without an account signs --previous in first (a backup needs one).
    """
    account = ctx.need_account()
    rec = run.expect("start", *SETUP_SCREENS)
    if rec.screen in SETUP_SCREENS:
        if ctx.previous is None:
            raise AccountNeeded("previous", "change-account: the phone has no Microsoft account yet (it is in set-up), "
                                            "and one must be signed in first to have something to change")
        run.note(f"the phone is in set-up: signing {ctx.previous.address} in first, to have something to change")
        sign_in_during_setup(run, ctx.previous, ctx.code_for(ctx.previous))
    return change_account(run, account, ctx.code_for(account))


#: ``harness signin --flow NAME``: every flow of the project.
FLOWS: dict[str, Flow] = {
    "setup": setup_flow,
    "settings": settings_flow,
    "after-update": after_update_flow,
    "add-outlook": add_outlook_flow,
    "change-account": change_account_flow,
}
#: What an ``emulator://`` handset needs for a flow unless the URI says otherwise.
EMULATOR_DEFAULTS: dict[str, dict[str, str]] = {"after-update": {"os_version": "8.0"}}


def load_flow(spec: str) -> Flow:
    """``module:function`` or ``path/to/file.py:function`` -> the function (the current folder is importable)."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise FlowUsageError(f"flow {spec!r}: expected module:function or file.py:function")
    if module_name.endswith(".py") or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise FlowUsageError(f"flow {spec!r}: no file {path}")
        loader_spec = importlib.util.spec_from_file_location(f"harness_flow_{path.stem}_{int(time.time())}", path)
        if loader_spec is None or loader_spec.loader is None:
            raise FlowUsageError(f"flow {spec!r}: cannot load {path}")
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    else:
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise FlowUsageError(f"flow {spec!r}: no module {exc.name!r} (run from the folder that holds it, "
                                 "or give file.py:function)") from None
    flow = getattr(module, attr, None)
    if not callable(flow):
        raise FlowUsageError(f"flow {spec!r}: {module_name} has no function {attr!r}")
    return flow
