"""Internet Explorer and the Microsoft account's "Reset your password" page (account.live.com/password/reset).

Enter the account, choose where the security code goes (a text to the
number on file, or the e-mail address on file), enter the code, choose a
new password: the old one then fails with the wrong-password screen and the
new one signs in. The pages carry the address bar's text as their header.
"""

from __future__ import annotations

from harness.emulator.page_parts import Buttons, Do, Field, Item, PageSpec, Section, Text
from harness.emulator.ui_apps import RESET_ADDRESS

_NEXT = Buttons((("next", "next"),))


def pages() -> dict[str, PageSpec]:
    """The browser's pages, merged into the page table (``code_destinations`` lists where a code can go)."""
    from harness.emulator.pages import code_destinations

    return {
        "browser": PageSpec(
            header="internet explorer", title="favorites",
            parts=(Field("address", "Address"),
                   Item("reset_link", "Reset your password", size=26),
                   Text(RESET_ADDRESS, dim=True),
                   Buttons((("go", "go"),))),
            taps={"go": Do("browse"), "reset_link": Do("browse")}, enter="go"),
        "reset_password": PageSpec(
            header=RESET_ADDRESS, title="reset your password",
            parts=(Text("Enter your Microsoft account and we'll send you a security code to reset your password."),
                   Field("email", "Microsoft account"), _NEXT),
            taps={"next": Do("reset_submit_email")}, focus="email", enter="next"),
        "reset_choose": PageSpec(
            header=RESET_ADDRESS, title="verify your identity",
            parts=(Text("Where should we send your security code?"), Section(code_destinations),
                   Buttons((("send", "send code"),))),
            taps={"text": Do("choose_destination"), "email": Do("choose_destination"), "send": Do("reset_send_code")}),
        "reset_code": PageSpec(
            header=RESET_ADDRESS, title="enter your security code",
            parts=(Text("We sent a code to {sent_to}.", dim=True), Field("code", "Code"), _NEXT),
            taps={"next": Do("reset_check_code")}, focus="code", enter="next"),
        "reset_new_password": PageSpec(
            header=RESET_ADDRESS, title="choose a new password",
            parts=(Text("At least 8 characters.", dim=True), Field("password", "New password", secret=True), _NEXT),
            taps={"next": Do("reset_set_password")}, focus="password", enter="next", back=False),
        "reset_done": PageSpec(
            header=RESET_ADDRESS, title="your password has been changed",
            parts=(Text("Use your new password to sign in to your Microsoft account on all your devices."),),
            back=True),
    }
