"""Re-record the shipped screen library from the emulated handset (1080x1920, dark theme): a lab tool.

It stands beside the emulator and vision and joins them (vision knows nothing
of the emulator).

What a lab engineer does by hand with ``harness screens record`` (pick
rectangles on a screenshot), done here for every emulator screen in one
command, so the library is regenerated whenever the emulator's look changes:

    python -m harness.lab.record_screens [--out DIR]   (default: the shipped library, fixtures/screens/ in a checkout)
"""

from __future__ import annotations

import argparse
import glob
import re
import tempfile
from pathlib import Path

import numpy as np

from harness.vision.definitions import DEFAULT_LIBRARY, Box
from harness.vision.recording import write_definition

PROFILE, THEME, ACCENT = "lumia-930", "dark", "cobalt"
#: Screens whose first paragraph depends on the phone's state (OS version ...): not an anchor.
VARYING_TEXT = {"phone_update"}
LIST_SCREENS = {"app_list", "email_accounts", "two_step_choose", "add_account", "settings", "account_settings"}


def _box(rect, scale: float, width: int, height: int, pad: float = 2.0) -> Box:  # type: ignore[no-untyped-def]
    x0 = max(0, int((rect.x - pad) * scale))
    y0 = max(0, int((rect.y - pad) * scale))
    x1 = min(width, int((rect.x + rect.w + pad) * scale))
    y1 = min(height, int((rect.y + rect.h + pad) * scale))
    return Box(x0, y0, x1 - x0, y1 - y0)


#: View pixels of each list item's start that a list's anchors keep: the first letters (any name has that many), in
#: whatever font, whichever item is there; BANDS anchors of BAND_ROWS items each, from the list's top.
BAND_VIEW, BANDS, BAND_ROWS = 30, 3, 4


def list_bands(items: list, scale: float, width: int, height: int) -> list[tuple[Box, str, bool]]:  # type: ignore[type-arg]
    """Anchors for a list whose entries are the phone's data (the app list): narrow bands down the start of its
    items, a few rows each. What stays when apps are installed, another font draws the names, or the list is
    scrolled is the list's structure (where the rows are, the blank above the first), not the names: the bands keep
    that, and several of them leave some visible under a banner over the top."""
    from harness.emulator.layout import Rect

    bands = []
    for k in range(BANDS):
        rows = items[k * BAND_ROWS:(k + 1) * BAND_ROWS]
        if len(rows) < BAND_ROWS:
            break
        top, bottom = rows[0].y, rows[-1].y + rows[-1].h
        bands.append((_box(Rect(rows[0].x, top, BAND_VIEW, bottom - top), scale, width, height), "top", True))
    return bands


#: The account a recording shows, and the Outlook.com accounts beside it.
ACCOUNT, OUTLOOK = "alice@outlook.com", ("dave@outlook.com",)
#: Another account's data, as unlike the demo account's as a page can show (counts, lengths, installed apps): a
#: screen drawn with it and with the demo account differs where the page shows the account's data, not the screen's.
CONTRAST_ACCOUNT, CONTRAST_OUTLOOK = "zoe.contrast-account@outlook.com", ()
#: ... and apps installed on the phone (the app list shows them among the phone's own)
CONTRAST_INSTALLED = ("6tag", "candy crush saga", "facebook", "weather flow")
CONTRAST_ACCOUNTS = """
[[account]]
address = "zoe.contrast-account@outlook.com"
password = "contrast-only"
two_step = true
phone = "+4479460012345"
email = "another.recovery-address@example.org"
mail = [{ from = "Z", subject = "z" }]
events = [
  { title = "A much longer event title than any demo event has", when = "2027-03-04T05:06" },
  { title = "Z", when = "2027-03-05T05:06" }, { title = "Y", when = "2027-03-06T05:06" },
  { title = "X", when = "2027-03-07T05:06" }, { title = "W", when = "2027-03-08T05:06" },
]
contacts = [{ name = "Zz" }]
apps = ["6tag", "candy crush saga", "facebook", "linkedin", "twitter", "weather flow", "whatsapp", "wikipedia"]
gamerscore = 1234567
feeds = [
  { network = "linkedin", author = "Zoe", text = "z" },
  { network = "twitter", author = "@zz", text = "A post far longer than the demo's, to take more lines on the page than it does." },
  { network = "twitter", author = "@yy", text = "y" },
]
"""


def show_screen(phone, screen: str, account: str = ACCOUNT, outlook: tuple[str, ...] = OUTLOOK) -> None:  # type: ignore[no-untyped-def]
    """Put an in-process emulated phone on ``screen``, in a state where it shows every target it can have, with
    ``account`` signed in (and ``outlook`` beside it, on email+accounts) where the screen shows an account."""
    phone.goto(screen)
    m = phone.model
    if screen in ("email_accounts", "account_settings"):
        m.ms_account = account
        m.sync = {"email": "synced", "contacts": "synced", "calendar": "synced"}
        m.outlook = {a: True for a in outlook}
    if screen == "phone_update":
        m.os_version = "8.0"  # so that the install button is there to record
    from harness.emulator.phone import APP_SCREENS

    if screen in APP_SCREENS:  # the apps: signed in and synced, or (``*_no_account``) not
        m.ms_account = None if screen.endswith("_no_account") else account
        m.feeds_connected = False  # so that 'connect' is there to record
        phone.ui.sync_now()
        if screen == "store_app":
            phone.ui.ctx["app"] = "netflix"
    phone.goto(screen)


def record_all(out: Path) -> list[Path]:
    from harness.emulator.accounts import DEMO_ACCOUNTS
    from harness.emulator.layout import SUB_SIZE, Rect, text_width
    from harness.emulator.pages import SYSTEM_APPS
    from harness.emulator.ui import SCREENS
    from harness.profiles import load_profile

    profile = load_profile(PROFILE)
    with tempfile.TemporaryDirectory(prefix="harness-record-") as tmp:
        contrast_file = Path(tmp) / "contrast.toml"
        contrast_file.write_text(CONTRAST_ACCOUNTS, encoding="utf-8")
        phone, contrast = _phone(profile, DEMO_ACCOUNTS), _phone(profile, contrast_file)
    for app in CONTRAST_INSTALLED:
        contrast.install_app(app)
    written = []
    s, W, H = profile.scale, profile.width, profile.height
    try:
        for screen in SCREENS:
            show_screen(phone, screen)
            page = phone.ui.page(profile.view_height)
            frame = np.asarray(phone.frame())
            show_screen(contrast, screen, CONTRAST_ACCOUNT, CONTRAST_OUTLOOK)
            varying = varying_regions(page, contrast.ui.page(profile.view_height), profile.view_height)
            anchors: list = []
            widgets = page.widgets
            for w in widgets:
                if w.kind in ("header", "title"):
                    anchors.append(_box(w.rect, s, W, H))
                elif w.kind == "logo":
                    anchors.append((_box(w.rect, s, W, H), "center"))
            statics = [w for w in widgets if w.kind == "text" and not w.dim and not w.error
                       and "@" not in w.text and "•" not in w.text]
            if statics and screen not in VARYING_TEXT:
                first = statics[0]
                line_h = first.size + 8
                anchors.append(_box(Rect(first.rect.x, first.rect.y, first.rect.w, min(first.rect.h, line_h * 2)), s, W, H))
            if screen == "start":
                anchors += [_box(w.rect, s, W, H) for w in widgets if w.kind == "tile"][:4]
            if screen == "app_list":  # its items are the phone's apps (an installed one moves them): their structure
                anchors += list_bands([w.rect for w in widgets if w.kind == "item"], s, W, H)
            targets = []
            list_top = next((w.rect.y + w.rect.h for w in widgets if w.kind == "title"), 40.0)
            search = Box(0, int(list_top * s), W, H - int(list_top * s)) if screen in LIST_SCREENS else None
            for i, w in enumerate(widgets):
                if not w.id:
                    continue
                if w.kind == "field":
                    label = widgets[i - 1]
                    crop = _box(Rect(label.rect.x, label.rect.y, text_width(label.text, label.size) + 6, label.size + 6), s, W, H)
                    cx, cy = crop.x + crop.w / 2, crop.y + crop.h / 2
                    field_c = (w.rect.x + 40) * s, (w.rect.y + w.rect.h / 2) * s
                    targets.append((w.id, crop, (int(field_c[0] - cx), int(field_c[1] - cy)), None))
                elif w.kind == "item" and w.id.startswith("outlook:"):
                    prefix = w.sub.split("·")[0] + "· "
                    x = w.rect.x + text_width(prefix, SUB_SIZE)
                    rect = Rect(x, w.rect.y + w.size + 10, text_width("attention required", SUB_SIZE) + 4, SUB_SIZE + 6)
                    targets.append(("attention_required", _box(rect, s, W, H, pad=1), (0, 0), search))
                elif w.kind == "item":
                    if w.id.startswith(("sync:", "mail:", "contact:", "event:", "post:", "store_app:")) \
                            or w.id == "language" or (w.id.startswith("app:") and w.text not in SYSTEM_APPS):
                        # the phone's data, not the screen's (the apps every phone has are targets)
                        continue
                    rect = Rect(w.rect.x, w.rect.y, text_width(w.text, w.size) + 6, w.size + 14)
                    targets.append((w.id.replace(" ", "_"), _box(rect, s, W, H), (0, 0), search))  # app:internet_explorer
                elif w.kind in ("button", "tile", "arrow", "round", "pivot"):
                    targets.append((w.id, _box(w.rect, s, W, H, pad=1), (0, 0), None))
            ignore = [Box(0, 0, W, int(32 * s))]
            ignore += [_box(r, s, W, H) for r in varying]  # the account's data: another account's page differs there
            written.append(write_definition(out, screen, frame, anchors, targets, ignore, PROFILE, THEME,
                                            description=f"recorded from the emulator ({PROFILE}, {THEME}, {ACCENT})"))
    finally:
        phone.close()
        contrast.close()
    return written


def _phone(profile, accounts: Path):  # type: ignore[no-untyped-def]
    from harness.emulator.accounts import AccountService, load_accounts
    from harness.emulator.phone import EmulatedPhone, PhoneOptions
    from harness.emulator.sms import SmsNetwork

    sms = SmsNetwork()
    phone = EmulatedPhone(profile, AccountService(load_accounts(accounts), sms), sms,
                          PhoneOptions(animation_ms=0, theme=THEME, accent=ACCENT))
    phone.start(instant=True)
    return phone


#: View pixels between two rows that differ under which they are one region (the rows of a list).
ROW_GAP = 16


def varying_regions(page, other, view_height: float) -> list:  # type: ignore[no-untyped-def]
    """Where a page shows the account's data rather than the screen's, found by comparing ``page`` with ``other``,
    the same screen with another account's data: where only the words differ (an address, a gamerscore), the rows
    of the widgets that differ, the whole width; where the widgets themselves differ (a longer list, one more
    account), everything from the first that differs down to the page's app bar or bottom, which moves with it."""
    from harness.emulator.layout import VIEW_WIDTH, Rect

    def shown(p) -> list:  # type: ignore[no-untyped-def]
        return [(w.kind, round(w.rect.y), round(w.rect.h), w.text, w.sub, w.lines, round(w.rect.x), round(w.rect.w))
                for w in p.widgets if w.kind != "appbar"]

    mine, theirs = shown(page), shown(other)
    differ = set(mine) ^ set(theirs)
    if not differ:
        return []
    if sorted(w[:3] for w in mine) == sorted(w[:3] for w in theirs):  # the same rows, other words in them
        rows: list[list[int]] = []
        for y, h in sorted({(w[1], w[2]) for w in differ}):
            if rows and y <= rows[-1][1] + ROW_GAP:  # rows of one list: one region
                rows[-1][1] = max(rows[-1][1], y + h)
            else:
                rows.append([y, y + h])
        return [Rect(0, y0, VIEW_WIDTH, y1 - y0) for y0, y1 in rows]
    top = min(w[1] for w in differ)
    bottom = min([w.rect.y for w in page.widgets + other.widgets if w.kind == "appbar"] + [view_height])
    return [Rect(0, top, VIEW_WIDTH, bottom - top)] if bottom > top else []


def main() -> None:
    from harness.lab.anchor_texts import annotate_recorded

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_LIBRARY))
    args = ap.parse_args()
    out = Path(args.out)
    paths = record_all(out)  # over the files there: what a lab wrote by hand is kept (write_definition)
    print(annotate_recorded(paths))  # the words of its text anchors, read from the crops just cut
    stale = prune(out, [p.stem for p in paths])
    others = sorted(p.name for p in out.glob("*.toml") if p not in paths)
    print(f"recorded {len(paths)} screens into {out}" + (f"; removed {len(stale)} crops no definition uses" if stale else "")
          + (f"; left as they were (not the emulator's): {', '.join(others)}" if others else ""))


def prune(folder: Path, names: list[str]) -> list[Path]:
    """Remove the crops of the screens ``names`` that their definitions no longer use (an anchor recorded before
    that is gone now); a crop a hand-written part of a definition names stays."""
    used = {v for n in names for v in re.findall(r'^(?:image|layout) = "([^"]+)"',
                                                   (folder / f"{n}.toml").read_text(encoding="utf-8"), re.M)}
    stale = [p for n in names for p in folder.glob(f"{glob.escape(n)}.*.png") if p.name not in used]
    for p in stale:
        p.unlink()
    return stale


if __name__ == "__main__":
    main()
