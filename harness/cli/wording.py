"""Library errors in the command line's words: the option that fixes one, where the error carries the facts.

Below the front doors the library raises typed errors that say what is wrong
in its own terms (no handset chosen, a port nobody named, an account a flow
was not given); only the command line knows its flags, so only it names
them. An error it has no words for is shown as the library said it.
"""

from __future__ import annotations

from harness.adb.errors import OutputTooLarge
from harness.flows.codes import EmailOnFileUnknown
from harness.flows.imap_codes import DEFAULT_PASSWORD_ENV, InboxError, PasswordInUrl, UntrustedServer
from harness.flows.library import AccountNeeded
from harness.lab.chosen import HandsetChoiceError, PortUnknown
from harness.vision.recording import NameTaken

_CHOICE = {
    HandsetChoiceError.BOTH: "give one of --handset URI, --device NAME and --place NAME",
    HandsetChoiceError.NONE: "say which handset: --handset URI, --device NAME or --place NAME",
    HandsetChoiceError.NO_INVENTORY: "--device needs --inventory FILE (or $HARNESS_INVENTORY)",
    HandsetChoiceError.NO_COORDINATOR: "--place needs --coordinator HOST:PORT (or $LG_COORDINATOR)",
}
#: The option of each input of an IMAP inbox (``InboxError.parameter``).
_INBOX = {"url": ("inbox", "--inbox"), "ca_file": ("CA file", "--inbox-ca")}
#: How to give each account a flow may need, after the flow's reason.
_ACCOUNT = {"account": ": give --account ADDRESS", "previous": "; give --previous ADDRESS to sign that one in first"}


def worded(exc: BaseException, command: str = "") -> str:
    """``exc``'s message for ``harness COMMAND``: with the flag that fixes it where there is one."""
    if isinstance(exc, HandsetChoiceError):
        return _CHOICE[exc.problem]
    if isinstance(exc, PortUnknown):
        return f"no {exc.field} port: give --port URL (or use --device NAME with an inventory that lists one)"
    if isinstance(exc, AccountNeeded) and exc.role in _ACCOUNT:
        return exc.why + _ACCOUNT[exc.role]
    if isinstance(exc, EmailOnFileUnknown):
        return f"{exc}: give --email-on-file"
    if isinstance(exc, PasswordInUrl):
        return (f"--inbox {exc.shown}: a password in the URL is refused; give it in the environment "
                f"(${DEFAULT_PASSWORD_ENV} or --inbox-password-env)")
    if isinstance(exc, UntrustedServer):
        return (f"{exc.url}: the server's certificate is not trusted ({exc.reason}); "
                "give the CA that signed it (--inbox-ca FILE)")
    if isinstance(exc, InboxError) and exc.parameter in _INBOX:
        word, option = _INBOX[exc.parameter]
        said = str(exc)
        return option + said[len(word):] if said.startswith(word) else said
    if isinstance(exc, NameTaken):
        return f"{exc}; --replace records over it"
    if isinstance(exc, OutputTooLarge) and command == "shell":
        return f"{exc} (harness shell --max-output BYTES)"
    return str(exc)
