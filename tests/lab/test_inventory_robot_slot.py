"""A camera-and-robot slot in the rack inventory: a robot table naming its calibration file (kept beside the
inventory) becomes the slot's robot:// handset; each mistake is one line naming the field."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from harness.errors import ConfigError
from harness.handsets import parse_uri
from harness.handsets.robot import parse
from harness.lab.inventory import Inventory

SLOT = """[[handset]]
name = "slot3"
profile = "lumia-930"
modem = "/dev/ttyUSB1"
robot = {{ port = "rfc2217://rack7:4003", camera = "http://rack7:8080/stream.mjpg?user=lab", calibration = "{cal}" }}
"""


def test_a_robot_table_is_the_slot_with_its_calibration_beside_the_inventory(tmp_path: Path) -> None:
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "slot3.toml").write_text("# a calibration\n", encoding="utf-8")
    rack = tmp_path / "rack.toml"
    rack.write_text(SLOT.format(cal="cal/slot3.toml"), encoding="utf-8")
    entry = Inventory.load(rack).get("slot3")
    parts = urlsplit(entry.uri)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.scheme == "robot" and unquote(parts.netloc + parts.path) == "rfc2217://rack7:4003"
    assert query == {"camera": "http://rack7:8080/stream.mjpg?user=lab",
                     "calibration": str(tmp_path / "cal" / "slot3.toml"), "profile": "lumia-930"}
    assert entry.modem == "/dev/ttyUSB1" and not entry.emulated
    address = parse(parse_uri(entry.uri))  # the robot:// scheme takes it as written
    assert address.port == "rfc2217://rack7:4003" and address.calibration == str(tmp_path / "cal" / "slot3.toml")


@pytest.mark.parametrize("table,field,words", [
    (SLOT.format(cal="missing.toml"), "handset[1].robot.calibration", "no calibration file"),
    (SLOT.format(cal="c.toml").replace('profile = "lumia-930"', 'profile = "lumia-930"\nuri = "adb-tcp://h:5555"'),
     "handset[1].uri", "either uri or a robot table"),
    (SLOT.format(cal="c.toml").replace('camera = "http://rack7:8080/stream.mjpg?user=lab", ', ""),
     "handset[1].robot.camera", "missing"),
    (SLOT.format(cal="c.toml").replace("robot = {", "robot = { lens = 3, "), "handset[1].robot", "lens"),
])
def test_a_wrong_robot_table_is_one_line_naming_the_field(tmp_path: Path, table: str, field: str, words: str) -> None:
    (tmp_path / "c.toml").write_text("# a calibration\n", encoding="utf-8")
    rack = tmp_path / "rack.toml"
    rack.write_text(table, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        Inventory.load(rack)
    assert f"{field}" in str(err.value) and words in str(err.value) and "\n" not in str(err.value)
