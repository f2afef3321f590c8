"""Flows for the rest of the handset's help page: what a Microsoft account unlocks (the Store, Games, feeds, backup),
what sync brought (mail, contacts, calendar), resetting the account's password in Internet Explorer.

Like the sign-in flows, every step waits for the screen it expects (vision)
and taps a target vision found on it; the code comes from a ``CodeSource``
(the modem or an inbox), never from the handset.
"""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np

from harness.accounts import Credentials
from harness.flows.app_lists import find_entry, list_region, open_app, read_lines, read_list
from harness.flows.codes import CodeSource
from harness.flows.inboxes import accounts_on_phone, read_inboxes
from harness.flows.runner import FlowError, FlowRunner
from harness.vision import Recognition
from harness.vision.definitions import Box
from harness.vision.ocr import edits, normalise, read_text

#: Where the Microsoft account's "Reset your password" page lives.
RESET_ADDRESS = "account.live.com/password/reset"


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
#: How long a page may take to say what a tap did (an install, a backup), at most; the flow's timeout bounds it too.
RESULT_SECONDS = 15.0


def unlocks(run: FlowRunner) -> dict[str, bool]:
    """Visit each app of the help page's list and say, from the screen it shows, whether it is usable:
    ``{"store": ..., "xbox": ..., "music": ..., "video": ..., "facebook_chat": ..., "feeds": ..., "backup": ...}``.
    Backup is usable when 'back up now' backs up (the page then says the last backup was today)."""
    out: dict[str, bool] = {}
    for key, target, screen in UNLOCKS:
        rec = open_app(run, target, [screen, f"{screen}_no_account"])
        out[key] = rec.screen == screen
    run.press("start")
    run.advance("start", "people", ["people"])
    rec = run.advance("people", "whats_new", ["whats_new", "whats_new_no_account"])
    out["feeds"] = rec.screen == "whats_new"
    out["backup"] = backup_usable(run)
    return out


def _says(run: FlowRunner, screen: str, wanted: tuple[str, ...], refused: tuple[str, ...]) -> bool:
    """Wait until ``screen`` says one of ``wanted`` (True) or of ``refused`` (False), read with OCR; FlowError after
    ``RESULT_SECONDS``."""
    deadline = time.monotonic() + min(RESULT_SECONDS, run.timeout)
    while True:
        rec = run.expect(screen, fresh=True)
        said = page_text(rec)
        if _any_says(said, refused):
            return False
        if _any_says(said, wanted):
            return True
        if time.monotonic() > deadline:
            raise FlowError(f"{screen} said neither {wanted[0]!r} nor {refused[0]!r} within "
                            f"{min(RESULT_SECONDS, run.timeout):.0f} s", screen, rec.score, run.last_screenshot)


#: A word read at most this many letters off (ocr.edits; one for a word under four letters), and as long a letter
#: either way, is the phrase's word: "toctay" is today (2), "installing" is not installed (3).
WORD_EDITS = 2


def _any_says(said: list[str], phrases: tuple[str, ...]) -> bool:
    """Whether a text of ``said`` holds one of ``phrases``, or a line is one of them read a letter or two off
    (``reads_as``)."""
    return any(normalise(p) in text or reads_as(text, p) for p in phrases for text in said)


def reads_as(line: str, phrase: str) -> bool:
    """Whether OCR's ``line`` is ``phrase`` read a letter or two off, word by word: each word as long as the
    phrase's, a letter either way, and at most WORD_EDITS letters off; in a phrase of three words or more one word
    but the last may be unreadable. Through a camera "last backup: today" read "last backups toctay", and, a
    glare spot over its middle, "last tricep today"; "last backup: yesterday", "Install" and "Installing" must not
    count as "today" and "Installed" (a whole-line likeness said they did: 0.84, 0.88 and 0.84)."""
    got, want = normalise(line).split(), normalise(phrase).split()
    if len(got) != len(want) or not want:
        return False
    off = [i for i, (g, w) in enumerate(zip(got, want))
           if abs(len(g) - len(w)) > 1 or edits(g, w) > (WORD_EDITS if len(w) >= 4 else 1)]
    return not off or (len(want) >= 3 and off == [off[0]] and off[0] != len(want) - 1)


def page_text(rec: Recognition) -> list[str]:
    """What the page says, normalised: the whole frame read at once (red error text as well, ``_ink``), and each
    line under the title read on its own (through a camera a dim line read with the page came out "last ba" for
    "last backup: today", lumia-1320 light; read alone, whole)."""
    return [normalise(read_text(_ink(rec.image), scale=rec.scale))] + [normalise(line.text) for line in read_lines(rec)]


def _ink(image: np.ndarray) -> np.ndarray:
    """One channel where coloured text (an error in red) stands out as much as the page's own: the brightest
    channel on a dark page, the darkest on a light one (grey would put red near a dark page's black)."""
    rgb = image[..., :3]
    return rgb.max(axis=2) if float(np.median(rgb)) < 128 else rgb.min(axis=2)


def backup_usable(run: FlowRunner) -> bool:
    """Settings -> backup -> 'back up now'; True when the page then says the last backup was today, False when it
    says a Microsoft account is needed."""
    open_app(run, "settings", ["settings"])
    rec = run.advance("settings", "backup", ["backup"])
    run.tap(rec, "back_up_now")
    return _says(run, "backup", ("last backup: today",), ("Sign in with a Microsoft account",))


def store_get_app(run: FlowRunner, app: str) -> bool:
    """Store -> ``app`` -> install -> the app list shows it. False when the Store says a Microsoft account is
    needed; FlowError when the Store does not list the app or the install does not finish."""
    rec = open_app(run, "app:store", ["store", "store_no_account"])
    if rec.screen == "store_no_account":
        return False
    rec, entry = find_entry(run, "store", app)
    run.tap_at(rec, entry.centre, f"store entry {app}")
    rec = run.expect("store_app")
    if "install" in rec.targets:
        run.tap(rec, "install")
    if not _says(run, "store_app", ("Installed",), ("Sign in with a Microsoft account",)):
        return False
    run.press("start")
    run.advance("start", "all_apps", ["app_list"])
    find_entry(run, "app_list", app)
    return True


#: Xbox avatar: a disc this many view pixels across (give or take a quarter) on the Games page.
AVATAR_VIEW = 160


def open_games(run: FlowRunner) -> dict[str, object]:
    """Games: ``{"xbox": usable, "gamerscore": N or None, "avatar": a round avatar is shown}``, from the screen."""
    rec = open_app(run, "app:games", ["games", "games_no_account"])
    if rec.screen == "games_no_account":
        return {"xbox": False, "gamerscore": None, "avatar": False}
    region = list_region(rec)
    text = normalise(read_text(rec.image, region, scale=rec.scale))
    score = re.search(r"gamerscore\s*(\d+)", text)
    return {"xbox": True, "gamerscore": int(score.group(1)) if score else None, "avatar": _avatar(rec, region)}


def _avatar(rec: Recognition, region: Box) -> bool:
    """Whether a filled disc of an avatar's size stands out from the page in ``region``."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rec.image[region.y:region.y + region.h, region.x:region.x + region.w, :3]),
                        cv2.COLOR_RGB2GRAY)
    mask = (np.abs(grey.astype(np.int16) - int(np.median(grey))) > 30).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    size = AVATAR_VIEW * rec.scale
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        perimeter = cv2.arcLength(c, True)
        if 0.75 * size <= w <= 1.25 * size and 0.75 * size <= h <= 1.25 * size and perimeter > 0:
            if 4 * np.pi * cv2.contourArea(c) / perimeter ** 2 > 0.8:
                return True
    return False


def connect_feeds(run: FlowRunner) -> list[str] | None:
    """People -> what's new -> connect: the posts it then shows ("author · network: text"), read to the end of the
    list; None when People says a Microsoft account is needed for feeds."""
    run.press("start")
    run.advance("start", "people", ["people"])
    rec = run.advance("people", "whats_new", ["whats_new", "whats_new_no_account"])
    if rec.screen == "whats_new_no_account":
        return None
    if "connect" in rec.targets:
        run.tap(rec, "connect")
        _says(run, "whats_new", ("twitter", "linkedin", "Nothing new"), ("Sign in with a Microsoft account",))
    return [f"{e.title}: {e.sub}" if e.sub else e.title for e in read_list(run, "whats_new")]


def synced_lists(run: FlowRunner) -> dict[str, Any]:
    """What sync brought, read from the screen: ``{"mail": [subject ...], "contacts": [name ...], "calendar":
    [title ...], "inboxes": {address: [subject ...]}}``, each list read to its end. ``mail`` is the Microsoft
    account's inbox ([] without one); ``inboxes`` holds every inbox Outlook shows, that one and each additional
    account's (Settings > email+accounts says which accounts there are)."""
    accounts = accounts_on_phone(run)
    inboxes = read_inboxes(run, accounts.syncing)
    open_app(run, "app:people", ["people"])
    contacts = [e.title for e in read_list(run, "people", skip=("whats_new",))]
    open_app(run, "app:calendar", ["calendar"])
    calendar = [e.title for e in read_list(run, "calendar")]
    return {"mail": inboxes.get(accounts.microsoft, []) if accounts.microsoft else [], "contacts": contacts,
            "calendar": calendar, "inboxes": inboxes}
