"""Every e-mail account's inbox, read from the screen: which accounts the phone has, and what Outlook shows of each.

An 8.1 phone keeps one inbox per account (no merged list). Settings >
email+accounts lists the accounts, the Microsoft account first, each with
its address and whether it syncs; Outlook, with more than one account,
names under its title whose inbox it shows, and a tap on that line shows the
next account's. These flows read both as a person does (vision and OCR),
so that ``harness sync`` can say what each account brought.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from harness.flows.app_lists import Line, list_region, open_app, read_lines, read_list, settled
from harness.flows.on_screen import ADDRESS
from harness.flows.runner import FlowError, FlowRunner
from harness.flows.signin import open_settings
from harness.vision import Recognition
from harness.vision.ocr import normalise, similarity

#: The kinds of account email+accounts lists with an address under them (normalised as OCR reads them).
ACCOUNT_KINDS = ("microsoft account", "outlook")
#: What email+accounts says under an account whose mail does not sync until it is signed in again.
NOT_SYNCING = ("sign in again", "attention required")
#: How alike an address read on screen must be to one Settings listed to be taken for it (OCR may misread a letter).
SAME_ADDRESS = 0.85
#: What an account whose address could not be read is listed under (its inbox is read all the same).
UNREADABLE = "(address not readable)"
#: Inboxes beyond those Settings listed that Outlook may go round before the flow stops (a bound, not a guess).
MORE_INBOXES = 8


@dataclass(frozen=True)
class PhoneAccounts:
    """The e-mail accounts Settings lists: the Microsoft account's address ('' without one) and every account
    whose mail syncs (addresses, in the order listed)."""

    microsoft: str
    syncing: tuple[str, ...]


def accounts_on_phone(run: FlowRunner) -> PhoneAccounts:
    """Settings -> email+accounts, read: each entry is a kind ("Microsoft account", "Outlook") over
    "address · state"."""
    open_settings(run)
    run.advance("settings", "email_accounts", ["email_accounts"])
    microsoft, syncing = "", []
    for entry in read_list(run, "email_accounts"):
        kind = next((k for k in ACCOUNT_KINDS if similarity(normalise(entry.title), k) >= 0.8), None)
        if kind is None:  # "add an account" and the like
            continue
        address = account_address(entry.sub)
        if not address:  # a camera's glare can wash out the small dim line: the lists are still read
            address = UNREADABLE
            run.note(f"email+accounts lists a {entry.title!r} account whose address is not readable (read: "
                     f"{entry.sub!r}); its inbox is listed under {UNREADABLE}")
        if kind == "microsoft account":
            microsoft = address
        if not any(normalise(s) in normalise(entry.sub) for s in NOT_SYNCING):
            syncing.append(address)
    run.note(f"email+accounts lists {len(syncing)} syncing account(s)"
             + (", a Microsoft account among them" if microsoft else ", no Microsoft account"))
    return PhoneAccounts(microsoft, tuple(syncing))


def account_address(sub: str) -> str:
    """The address an account's second line starts with ("address · state"): its first word, else any address
    in it (so a status OCR glued to it does not join the address). A space OCR set beside the '@' goes: a 720-wide
    screenshot of email+accounts (lumia-1320 dark, over ADB) read "alice @outlook.com", and sync listed the inbox
    as not readable."""
    words = re.sub(r"\s*@\s*", "@", sub).split()
    found = ADDRESS.fullmatch(words[0].rstrip(".,;:")) if words else None
    found = found or ADDRESS.search(" ".join(words))
    return found.group(0) if found else ""


def _owner_line(rec: Recognition) -> Line | None:
    """Outlook's account line: the dim line with an address first under the title (None with one account)."""
    lines = read_lines(rec, limit=1)
    if lines and lines[0].dim and ADDRESS.search(lines[0].text):
        return lines[0]
    return None


def _known(read: str, known: tuple[str, ...]) -> str:
    """The address Settings listed that ``read`` (an OCR reading) is, else the address as read."""
    found = ADDRESS.search(read)
    text = found.group(0) if found else read.strip()
    best = max(known, key=lambda a: similarity(text, a), default="")
    return best if best and similarity(text, best) >= SAME_ADDRESS else text


def _subjects(run: FlowRunner) -> list[str]:
    return [e.sub for e in read_list(run, "mail") if e.sub]


def _next_owner(run: FlowRunner, rec: Recognition, line: Line, owner: str, known: tuple[str, ...]) -> Recognition:
    """Tap the account line and wait until it names another account; FlowError at the flow's timeout."""
    run.tap_at(rec, line.centre, f"the account line of the inbox ({owner})")
    deadline = time.monotonic() + run.timeout
    while True:
        rec = run.expect("mail", fresh=True, action="looked for the next account's inbox")
        shown = _owner_line(rec)
        if shown is not None and _known(shown.text, known) != owner:
            return rec
        if time.monotonic() > deadline:
            seen = f"it still names {shown.text!r}" if shown is not None else "no account line is readable"
            raise FlowError(f"Outlook did not show the next account's inbox within {run.timeout:.0f} s of a tap on "
                            f"its account line ({seen})", rec.screen, rec.score, run.last_screenshot)


def read_inboxes(run: FlowRunner, known: tuple[str, ...]) -> dict[str, list[str]]:
    """Outlook, every inbox it shows: ``{address: [subject, ...]}``, each list read to its end, newest first.

    ``known`` are the syncing accounts Settings listed (their order is the result's; an inbox Outlook names
    that Settings did not list is kept under the address as read). With one account Outlook names none, and
    its inbox is that account's.
    """
    rec = open_app(run, "app:outlook", ["mail"])
    deadline = time.monotonic() + run.timeout
    while True:
        rec = settled(run, "mail", list_region(rec))
        line = _owner_line(rec)
        if line is not None or len(known) <= 1:
            break
        if time.monotonic() > deadline:  # a just-added account shows once it has synced
            raise FlowError(f"Settings lists {len(known)} syncing accounts but Outlook names none above its inbox "
                            f"within {run.timeout:.0f} s", rec.screen, rec.score, run.last_screenshot)
        rec = run.expect("mail", fresh=True, action="looked again for the inbox's account line")
    if line is None:
        subjects = _subjects(run)
        return {known[0]: subjects} if known else ({"": subjects} if subjects else {})
    seen: dict[str, list[str]] = {}
    for _ in range(len(known) + MORE_INBOXES):  # once round every account (and any Settings did not list)
        owner = _known(line.text, known)
        if owner in seen:
            break
        seen[owner] = _subjects(run)
        rec = _next_owner(run, run.expect("mail"), line, owner, known)
        line = _owner_line(rec)
        assert line is not None  # _next_owner returns only once the line names an account
    missing = [a for a in known if a not in seen]
    if missing:
        raise FlowError(f"Outlook's account line went round {', '.join(seen)} but never named {', '.join(missing)}",
                        "mail", rec.score, run.last_screenshot)
    return {a: seen[a] for a in (*known, *[a for a in seen if a not in known])}
