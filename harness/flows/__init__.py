"""The Microsoft-account sign-in flows, as plain functions over a Handset and the screen library."""

from harness.flows.codes import CodesByAccount, CodeSource, CodeUnreachable, MaildirCodeSource, SmsCodeSource
from harness.accounts import Credentials
from harness.flows.runner import FlowError, FlowRunner, SignInFailed, Step
from harness.flows.signin import (
    change_account,
    reauth_additional_accounts,
    sign_in_after_setup,
    sign_in_again_after_update,
    sign_in_during_setup,
)
from harness.flows.library import FLOWS, FlowContext

__all__ = [
    "CodesByAccount", "CodeSource", "CodeUnreachable", "FLOWS", "FlowContext", "MaildirCodeSource", "SmsCodeSource", "Credentials", "FlowError", "FlowRunner",
    "SignInFailed", "Step", "change_account", "reauth_additional_accounts", "sign_in_after_setup",
    "sign_in_again_after_update", "sign_in_during_setup",
]
