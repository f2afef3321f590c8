"""Recognition of every screen at every profile and theme (any accent, perturbed, under a toast), unknown for
non-screens, every target where the screen shows it, definition errors, and the record tool's round trip."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from harness.emulator.accounts import DEMO_ACCOUNTS, AccountService, load_accounts
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.sms import SmsNetwork
from harness.emulator.ui import SCREENS
from harness.errors import ConfigError
from harness.profiles import ACCENTS, load_all
from harness.vision import ScreenLibrary, find_target, load_definition
from harness.lab.record_screens import show_screen

LIBRARY = ScreenLibrary.load_default()
PROFILES = load_all()


def _phone(profile, **options) -> EmulatedPhone:
    sms = SmsNetwork()
    phone = EmulatedPhone(profile, AccountService(load_accounts(DEMO_ACCOUNTS), sms), sms,
                          PhoneOptions(animation_ms=0, **options))
    phone.start(instant=True)
    return phone


def _perturb(image: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "JPEG", quality=55)
        return np.asarray(Image.open(buf).convert("RGB"))
    if kind == "noise":
        return np.clip(image.astype(np.int16) + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    if kind == "blur":
        sigma = 0.5 * image.shape[1] / 480
        return cv2.GaussianBlur(image, (0, 0), sigma)
    return image


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_every_screen_is_recognised_with_its_targets(profile, theme) -> None:
    # a seed stable across processes (hash() of a str changes with PYTHONHASHSEED), so a failure reproduces
    rng = np.random.default_rng(zlib.crc32(f"{profile.name}/{theme}".encode()))
    accent = random.Random(f"{profile.name}{theme}").choice(sorted(ACCENTS))
    phone = _phone(profile, theme=theme, accent=accent)
    found = wanted = 0
    try:
        for i, screen in enumerate(SCREENS):
            show_screen(phone, screen)
            image = _perturb(np.asarray(phone.frame()), ("clean", "jpeg", "noise", "blur")[i % 4], rng)
            rec = LIBRARY.recognize(image)
            assert rec is not None and rec.screen == screen, (screen, LIBRARY.rank(image)[:2])
            # where the targets are is checked against hand-measured boxes (test_targets_land_in_hand_measured_boxes)
            found += len(rec.targets)
            wanted += len(LIBRARY.definitions[screen].targets)
        assert found >= 0.95 * wanted, f"{found} of {wanted} targets found"
    finally:
        phone.close()


HAND_MEASURED = Path(__file__).parent / "data" / "hand_measured_targets.toml"
#: What a target's tap point goes through (the hand-measured box with it): none, the codec, noise, blur, light;
#: a shift of the picture by (dx, dy) and a resize by a factor move the box by the same known amount.
VARIANTS = [("clean", 0, 0, 1.0), ("jpeg", 0, 0, 1.0), ("noise", 0, 0, 1.0), ("blur", 0, 0, 1.0),
            ("brightness", 0, 0, 1.0), ("shift", 6, -6, 1.0), ("shift", -6, 6, 1.0), ("scale", 0, 0, 0.85),
            ("scale", 0, 0, 1.15)]


def _hand_measured() -> list[dict]:
    import tomllib

    return tomllib.loads(HAND_MEASURED.read_text())["shot"]


#: Share of (variant, target) pairs whose target is found on a hand-measured shot (all of them on the clean one).
HAND_FOUND_FLOOR = 0.75  # today: 7 of 9 at worst (lumia-520 backup: unknown when blurred)


@pytest.mark.parametrize("shot", _hand_measured(), ids=lambda s: Path(s["image"]).stem)
def test_targets_land_in_hand_measured_boxes(shot) -> None:
    """Every target found on a screenshot taken over ADB is tapped inside the box measured by hand on that PNG
    (tests/vision/data/hand_measured_targets.toml says how), also when the frame is recompressed, noisy,
    blurred, darker or brighter, shifted by 6 pixels or resized by 0.85 and 1.15 (the box moved with it).
    On the clean shot the screen and every target are found; a perturbed one may be unknown, never wrong."""
    from harness.lab.perturb import apply, scale_by, shift_by

    clean = np.asarray(Image.open(HAND_MEASURED.parent / shot["image"]).convert("RGB"))
    rng = np.random.default_rng(zlib.crc32(shot["image"].encode()))
    misses, found, tried = [], 0, 0
    for kind, dx, dy, factor in VARIANTS:
        if kind == "shift":
            image = shift_by(clean, dx, dy)
        elif kind == "scale":
            image = scale_by(clean, factor)
        else:
            image = apply(clean, kind, rng)
        rec = LIBRARY.recognize(image)
        variant = f"{kind}{(dx, dy, factor)}"
        if kind == "clean":
            assert rec is not None and rec.screen == shot["screen"], LIBRARY.best_guess(image).why()
            assert set(rec.targets) >= {t["name"] for t in shot["targets"]}, rec.targets
        assert rec is None or rec.screen == shot["screen"], (variant, rec.screen)
        tried += len(shot["targets"])
        for target in shot["targets"] if rec is not None else []:
            if target["name"] not in rec.targets:
                continue
            found += 1
            x0, y0, w, h = target["box"]
            left, top, right, bottom = ((x0 + dx) * factor, (y0 + dy) * factor,
                                        (x0 + dx + w) * factor, (y0 + dy + h) * factor)
            x, y = find_target(rec, target["name"])
            if not (left <= x <= right and top <= y <= bottom):
                misses.append(f"{variant}: {target['name']} at ({x:.0f}, {y:.0f}), outside the "
                              f"hand-measured [{left:.0f}..{right:.0f}] x [{top:.0f}..{bottom:.0f}]")
    assert not misses, "; ".join(misses)
    assert found >= HAND_FOUND_FLOOR * tried, f"{found} of {tried} targets found"


def test_recognised_under_a_toast_in_every_accent() -> None:
    profile = next(p for p in PROFILES if p.name == "lumia-1320")
    for accent in sorted(ACCENTS):
        phone = _phone(profile, theme="light", accent=accent, toasts=True, toast_seed=1, toast_interval=0.01,
                       toast_duration=60)
        try:
            for screen in ("keep_your_life_in_sync", "account_password", "setup_welcome", "start"):
                show_screen(phone, screen)
                rec = LIBRARY.recognize(np.asarray(phone.frame()))
                assert rec is not None and rec.screen == screen, (accent, screen, LIBRARY.best_guess(np.asarray(phone.frame())).why())
        finally:
            phone.close()


def test_non_screens_are_unknown() -> None:
    rng = np.random.default_rng(7)
    images = [rng.integers(0, 255, (1920, 1080, 3), dtype=np.uint8),
              np.full((1280, 720, 3), 40, np.uint8),
              cv2.resize(rng.integers(0, 255, (24, 14, 3), dtype=np.uint8), (768, 1280), interpolation=cv2.INTER_NEAREST)]
    desk = np.full((800, 480, 3), 255, np.uint8)  # another app's screen: text, a photo, a keyboard
    cv2.putText(desk, "Inbox", (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 3)
    for i in range(8):
        cv2.putText(desk, f"message {i} from a friend", (20, 140 + 50 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (60, 60, 60), 2)
    desk[560:800] = rng.integers(0, 255, (240, 480, 3), dtype=np.uint8)
    images.append(desk)
    for image in images:
        assert LIBRARY.recognize(image) is None


def test_a_screen_defined_twice_is_not_guessed(tmp_path: Path) -> None:
    """A lab's copy of a screen under a new name makes its frames ambiguous: ``harness match`` says unknown,
    rather than picking one of two equal answers; screens not copied are still recognised."""
    import json
    import shutil

    source = Path(LIBRARY.definitions["keep_your_life_in_sync"].path)
    lib = tmp_path / "lib"
    shutil.copytree(source.parent, lib)
    (lib / "my_sync.toml").write_text(source.read_text().replace('name = "keep_your_life_in_sync"', 'name = "my_sync"'))
    shots = []
    for name, theme, screen in (("lumia-520", "light", "keep_your_life_in_sync"), ("lumia-930", "dark", "account_email")):
        phone = _phone(next(p for p in PROFILES if p.name == name), theme=theme)
        try:
            show_screen(phone, screen)
            shots.append(tmp_path / f"{screen}.png")
            phone.frame().save(shots[-1])
        finally:
            phone.close()

    def match(*args: str) -> list[str | None]:
        out = subprocess.run([sys.executable, "-m", "harness", "match", *map(str, shots), "--json", *args],
                             capture_output=True, text=True, timeout=120)
        return [json.loads(line)["screen"] for line in out.stdout.splitlines()]

    assert match() == ["keep_your_life_in_sync", "account_email"]
    assert match("--screens", str(lib)) == [None, "account_email"]


def test_definition_mistakes_name_the_file_and_field(tmp_path: Path) -> None:
    source = Path(LIBRARY.definitions["keep_your_life_in_sync"].path)
    for png in source.parent.glob("keep_your_life_in_sync.*.png"):
        (tmp_path / png.name).write_bytes(png.read_bytes())
    text = source.read_text()
    cases = [
        (text.replace('name = "keep_your_life_in_sync"', 'name = "k"\ncolour = 1'), "colour", "unknown key"),
        (text.replace("region = [", "region = [9000, ", 1).replace(", 9000", ", 9000"), "anchor[0].region", ""),
        (text.replace('image = "keep_your_life_in_sync.anchor0.png"', 'image = "missing.png"'), "anchor[0].image",
         "does not exist"),
        (text.replace("[[anchor]]", "[[anchor]]\nshape = 1", 1), "anchor[0].shape", "unknown key"),
        (text.replace("[[anchor]]", '[[anchor]]\nicon = "yes"', 1), "anchor[0].icon", "true or false"),
        (text.replace("[[anchor]]", "[[anchor]]\nicon = true\nstructure = true", 1), "anchor[0].icon", "not with structure"),
    ]
    for i, (content, field, words) in enumerate(cases):
        path = tmp_path / f"case{i}.toml"
        path.write_text(content)
        with pytest.raises(ConfigError) as info:
            load_definition(path)
        message = str(info.value)
        assert message.startswith(f"{path}: {field}") and "\n" not in message and words in message, message
    off = tmp_path / "off.toml"
    off.write_text(text.replace("region = [", "region = [1000, 1800, 500, 500] #", 1))
    with pytest.raises(ConfigError, match="off the recorded 1080x1920 screen"):
        load_definition(off)


def test_record_tool_round_trips_a_definition(tmp_path: Path) -> None:
    profile = next(p for p in PROFILES if p.name == "lumia-930")
    phone = _phone(profile)
    try:
        show_screen(phone, "keep_your_life_in_sync")
        shot = tmp_path / "shot.png"
        phone.frame().save(shot)
        page = phone.ui.page(profile.view_height)
        title = next(w for w in page.widgets if w.kind == "title").rect
        button = page.widget("sign_in").rect
        s = profile.scale
        box = lambda r: f"{int(r.x * s)},{int(r.y * s)},{int(r.w * s)},{int(r.h * s)}"  # noqa: E731
        out = subprocess.run([sys.executable, "-m", "harness", "screens", "record", "my_sync", "--from-image", str(shot),
                              "--anchor", box(title), "--target", f"sign_in={box(button)}", "--ignore", "0,0,1080,72",
                              "--screens", str(tmp_path / "lib")], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        definition = load_definition(tmp_path / "lib" / "my_sync.toml")
        assert [t.name for t in definition.targets] == ["sign_in"] and len(definition.anchors) == 1
        rec = ScreenLibrary([definition]).recognize(np.asarray(phone.frame()))
        assert rec is not None and rec.screen == "my_sync"
        x, y = find_target(rec, "sign_in")
        assert button.contains(x / s, y / s)
        bad = subprocess.run([sys.executable, "-m", "harness", "screens", "record", "x", "--from-image", str(shot),
                              "--anchor", "1000,1900,500,500", "--screens", str(tmp_path / "lib")],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and "off the 1080x1920 image" in bad.stderr
    finally:
        phone.close()


def test_match_cli_json(tmp_path: Path) -> None:
    import json

    profile = next(p for p in PROFILES if p.name == "lumia-630")
    phone = _phone(profile, theme="light")
    try:
        show_screen(phone, "account_email")
        phone.frame().save(tmp_path / "a.png")
        Image.fromarray(np.zeros((800, 480, 3), np.uint8)).save(tmp_path / "black.png")
    finally:
        phone.close()
    out = subprocess.run([sys.executable, "-m", "harness", "match", str(tmp_path / "a.png"), str(tmp_path / "black.png"),
                          "--json"], capture_output=True, text=True, timeout=60)
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    assert first["screen"] == "account_email" and set(first["targets"]) >= {"next", "field:email"}
    assert set(first) == {"image", "screen", "score", "targets", "ms"}
    assert second["screen"] is None and out.returncode == 1
    # an unknown frame says why in one line: the best two screens and their scores
    assert "\n" not in second["why"] and second["why"].startswith("best ") and "runner-up " in second["why"]


@pytest.mark.parametrize("profile", [p for p in PROFILES if p.name in ("lumia-520", "lumia-930")], ids=lambda p: p.name)
def test_a_target_that_is_not_shown_is_not_found(profile) -> None:
    """An additional account that needs no sign-in says 'up to date', not 'attention required': the flow after the
    8.1 update decides on that target, so a line of other grey text in its place must not pass for it."""
    phone = _phone(profile, theme="dark")
    try:
        show_screen(phone, "email_accounts")
        for needs, expected in ((True, True), (False, False)):
            phone.model.outlook = {"dave@outlook.com": needs}
            phone.goto("email_accounts")
            rec = LIBRARY.recognize(np.asarray(phone.frame()))
            assert rec is not None and rec.screen == "email_accounts"
            assert ("attention_required" in rec.targets) is expected, (needs, rec.targets)
    finally:
        phone.close()
