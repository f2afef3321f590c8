"""Device profiles: the shipped ones load; each kind of mistake gets a one-line error naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.profiles import PROFILES_DIR, load_all, load_profile, load_profile_file

GOOD = PROFILES_DIR / "lumia-930.toml"


def test_shipped_profiles_cover_the_required_resolutions() -> None:
    profiles = load_all()
    assert len(profiles) >= 5
    sizes = {(p.width, p.height) for p in profiles}
    for required in [(480, 800), (480, 854), (720, 1280), (768, 1280), (1080, 1920)]:
        assert required in sizes
    for p in profiles:
        assert p.view_width == 480
        assert p.serial_regex().match(p.make_serial(7)), p.name
        assert p.os_version in ("8.0", "8.1")


def test_load_by_name_and_unknown_name() -> None:
    assert load_profile("lumia-520").width == 480
    with pytest.raises(ConfigError, match="no profile 'lumia-9999'"):
        load_profile("lumia-9999")


def _mutate(tmp_path: Path, old: str, new: str) -> Path:
    text = GOOD.read_text()
    assert old in text, old
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ('model = "Lumia 930"\n', "", "model", "missing"),
        ("width = 1080\n", "", "screen.width", "missing"),
        ("width = 1080", 'width = "1080"', "screen.width", "expected int"),
        ("scale = 2.25", "scale = true", "screen.scale", "expected"),
        ('manufacturer = "Nokia"', 'manufacturer = "Nokia"\ncolour = "red"', "colour", "unknown key"),
        ("baudrate = 115200", "baudrate = 115200\nflow = 1", "console.flow", "unknown key"),
        ("width = 1080\nheight = 1920", "width = 1080\nheight = 900", "screen.height", "impossible resolution"),
        ("width = 1080\nheight = 1920", "width = 100000\nheight = 1920", "screen.width", "impossible resolution"),
        ("scale = 2.25", "scale = 2.0", "screen.scale", "must be one of"),
        ("scale = 2.25", "scale = 1.5", "screen.scale", "not 480"),
        ('accent = "cobalt"', 'accent = "chartreuse"', "theme.accent", "unknown accent"),
        ('default = "dark"', 'default = "blue"', "theme.default", "dark or light"),
        ('os_version = "8.1"', 'os_version = "10"', "os_version", "must be one of"),
        ("vendor_id = 0x0421", "vendor_id = 0x10000", "usb.vendor_id", "0xFFFF"),
        ('parity = "N"', 'parity = "X"', "console.parity", "must be one of"),
        ("[usb]", "[usbx]", "usbx", "unknown key"),
        ("width_mm = 71.0", "width_mm = 60.0", "body.width_mm", "narrower than the screen"),
        ("height_mm = 137.0", "height_mm = 120.0", "body.height_mm", "cannot hold"),
        ("thickness_mm = 9.8", "thickness_mm = -1", "body.thickness_mm", "positive number"),
        ("key_row_mm = 7.5", "key_row_mm = 7.5\nkeys = 3", "body.keys", "unknown field"),
        ("top_mm = 11.0\n", "", "body.top_mm", "missing"),
    ],
)
def test_each_mistake_names_file_and_field(tmp_path: Path, old: str, new: str, field: str, words: str) -> None:
    path = _mutate(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_profile_file(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {field}: "), message
    assert words in message


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("model = \n")
    with pytest.raises(ConfigError, match=r"x\.toml: \(toml\)"):
        load_profile_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_profile_file(tmp_path / "absent.toml")
