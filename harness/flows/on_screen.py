"""What the flows read on the screen (OCR, ``harness.vision.ocr``): where an access code goes, and who is signed in.

A person checks both: before waiting for a text, that the number the phone
shows ("\u2022\u2022\u2022\u202200") is the one whose SIM is in the modem; after sign-in, that
the account the phone shows is the one they signed in. The flows do the
same from the frame vision already has, reading only the region needed.
Without Tesseract the check is skipped and the step log says so.
"""

from __future__ import annotations

import re
from dataclasses import replace

import cv2
import numpy as np

from harness.accounts import Credentials
from harness.flows.codes import CodeSource, CodeUnreachable
from harness.flows.runner import FlowError, FlowRunner
from harness.vision import Recognition
from harness.vision.definitions import Box
from harness.vision.masked_digits import read_masked_digits, soft_label
from harness.vision.ocr import OcrUnavailable, normalise, similarity

#: An e-mail address as OCR reads one (a Microsoft account's name).
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Lines under account settings' title looked at for the account's address (it is the first).
ACCOUNT_LINES = 3
#: How alike the address read must be to the account's (OCR may misread a letter of a long address).
SAME_ADDRESS = 0.9


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def masked_number(rec: Recognition) -> str:
    """The digits two-step verification shows of the phone number on file, under its "Text" choice ("" if unread)."""
    from harness.vision.labels import find_label, label_region

    d, image = rec.definition, rec.image
    target = next((t for t in d.targets if t.name == "text"), None) if d is not None else None
    if d is None or target is None or image is None:
        return ""
    height, width = image.shape[:2]
    label = find_label(image, target.label or "Text", label_region(d, target, width, height, rec.scale), scale=rec.scale)
    if label is None:
        return ""
    b = label.box  # the masked number is the line under the choice's own label
    line = Box(max(0, b.x - b.h // 2), b.y + b.h, width - max(0, b.x - b.h // 2), 2 * b.h)
    return read_masked_digits(image, line, scale=rec.scale, soft=soft_label(image, b))


def check_text_destination(run: FlowRunner, rec: Recognition, code: CodeSource,
                           account: Credentials | None = None) -> str:
    """Before a code is sent by text: the number the phone shows must end as one the modem holds.

    Raises ``CodeUnreachable`` naming both; returns the digits read ("" when
    they could not be read or OCR is missing: the step log then says so).
    """
    numbers_of = getattr(code, "numbers", None)
    held = [n for n in numbers_of() if _digits(n)] if callable(numbers_of) else []
    try:
        shown = masked_number(rec)
    except OcrUnavailable as exc:
        run.note(f"the number the code goes to was not read ({exc})")
        return ""
    run.artifacts.record("read", screen=rec.screen, what="masked phone number", digits=shown)
    if not shown:
        run.note(f"the number the code goes to could not be read on {rec.screen} (see its screenshot)")
        return ""
    if held and not any(_digits(n).endswith(shown) for n in held):
        again = masked_number(replace(rec, image=run.handset.screenshot()))  # a misread must not stop a sign-in
        if again != shown:
            run.note(f"the number the code goes to read as ending {shown}, then {again}: not checked")
            return ""
        where = getattr(getattr(code, "modem", None), "url", None) or "the modem"
        whose = f" (on file for {account.address})" if account is not None else ""
        raise CodeUnreachable(f"the handset sends the access code by text to a number ending {shown}{whose}, but "
                              f"{where} holds {', '.join(held)}: give the modem of that SIM")
    return shown


def signed_in_account(rec: Recognition, expected: str = "") -> tuple[str, str]:
    """The account address the screen shows below its title (account settings), and everything read there.

    Each line under the title is read on its own (``app_lists.read_lines``, as ``harness sync`` reads an account's
    line): read as one block, a dim address on a white page was left out ("szyci64@hotmail.com"), and OCR's
    spaces inside one ("srelt.8 1@live.com") cut it short, so a line's address is taken with its spaces gone.
    With the address ``expected``, a line that does not read as it is read again every way a field is (a
    camera's small dim letters differ by one or two in each, and a name of random letters has no word to help):
    the reading like it is the one shown, if any is (another account's address is not one letter away)."""
    # app_lists builds on the sign-in flows, which use this module
    from harness.flows.app_lists import list_region, read_lines
    from harness.vision.text_lines import line_boxes
    from harness.vision.field_text import read_field

    image = rec.image
    if image is None:
        return "", ""
    lines = read_lines(rec, limit=ACCOUNT_LINES)
    text = "\n".join(line.text for line in lines)
    found = [m.group(0) for m in (ADDRESS.search(line.text.replace(" ", "")) for line in lines) if m]
    alike = [a for a in found if expected and similarity(a, expected) >= SAME_ADDRESS]
    if alike or not expected:
        return (alike or found or [""])[0], text
    grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    for box in line_boxes(grey, list_region(rec), rec.scale)[:ACCOUNT_LINES]:  # a line OCR left empty too
        for reading in read_field(image, box, every_way=True):
            address = ADDRESS.search(reading.replace(" ", ""))
            if address and similarity(address.group(0), expected) >= SAME_ADDRESS:
                return address.group(0), text
    return (found or [""])[0], text


def check_signed_in(run: FlowRunner, rec: Recognition, account: Credentials) -> str:
    """After sign-in: the screen must show ``account``'s address; a FlowError says what it shows instead.

    On a camera's frame an address that is not there to read at all (a glare spot over a light page's dim line
    washes it out for a person too) is a note, as an unread masked number is: not a sign-in that failed. On a
    screenshot it is always readable, so there its absence is an error."""
    try:
        shown, text = signed_in_account(rec, account.address)
    except OcrUnavailable as exc:
        run.note(f"the signed-in account was not read ({exc})")
        return ""
    run.artifacts.record("read", screen=rec.screen, what="signed-in account", address=shown)
    from harness.flows.app_lists import camera_frame  # (app_lists imports the sign-in flows, which import this)

    if not shown and rec.image is not None and camera_frame(rec):
        run.note(f"the signed-in account could not be read on {rec.screen} (a camera's frame; see its screenshot)")
        return ""
    if not shown or similarity(shown, account.address) < SAME_ADDRESS:
        seen = f"it shows {shown}" if shown else f"no account address is readable there (read: {normalise(text)[:80]!r})"
        raise FlowError(f"signed in as {account.address}, but {rec.screen} does not say so: {seen}", rec.screen,
                        rec.score, run.last_screenshot)
    return shown
