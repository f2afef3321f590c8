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
from pathlib import Path

import numpy as np

from harness.vision.definitions import DEFAULT_LIBRARY, Box, write_definition

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


def show_screen(phone, screen: str) -> None:  # type: ignore[no-untyped-def]
    """Put an in-process emulated phone on ``screen``, in a state where it shows every target it can have."""
    phone.goto(screen)
    m = phone.model
    if screen in ("email_accounts", "account_settings"):
        m.ms_account = "alice@outlook.com"
        m.sync = {"email": "synced", "contacts": "synced", "calendar": "synced"}
        m.outlook = {"dave@outlook.com": True}
    if screen == "phone_update":
        m.os_version = "8.0"  # so that the install button is there to record
    from harness.emulator.phone import APP_SCREENS

    if screen in APP_SCREENS:  # the apps: signed in and synced, or (``*_no_account``) not
        m.ms_account = None if screen.endswith("_no_account") else "alice@outlook.com"
        m.feeds_connected = False  # so that 'connect' is there to record
        phone.ui.sync_now()
        if screen == "store_app":
            phone.ui.ctx["app"] = "netflix"
    phone.goto(screen)


def record_all(out: Path) -> list[Path]:
    from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
    from harness.emulator.layout import SUB_SIZE, Rect, text_width
    from harness.emulator.pages import SYSTEM_APPS
    from harness.emulator.phone import EmulatedPhone, PhoneOptions
    from harness.emulator.sms import SmsNetwork
    from harness.emulator.ui import SCREENS
    from harness.profiles import load_profile

    sms = SmsNetwork()
    profile = load_profile(PROFILE)
    phone = EmulatedPhone(profile, AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, theme=THEME, accent=ACCENT))
    phone.start(instant=True)
    written = []
    s, W, H = profile.scale, profile.width, profile.height
    try:
        for screen in SCREENS:
            show_screen(phone, screen)
            page = phone.ui.page(profile.view_height)
            frame = np.asarray(phone.frame())
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
            if screen == "app_list":
                anchors += [_box(Rect(w.rect.x, w.rect.y, text_width(w.text, w.size) + 6, w.size + 14), s, W, H)
                            for w in widgets if w.kind == "item"][:3]
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
            written.append(write_definition(out, screen, frame, anchors, targets, ignore, PROFILE, THEME,
                                            description=f"recorded from the emulator ({PROFILE}, {THEME}, {ACCENT})"))
    finally:
        phone.close()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_LIBRARY))
    args = ap.parse_args()
    out = Path(args.out)
    for old in list(out.glob("*.toml")) + list(out.glob("*.png")):
        old.unlink()
    paths = record_all(out)
    print(f"recorded {len(paths)} screens into {out}")


if __name__ == "__main__":
    main()
