"""A slot's calibration: the mm <-> px map fitted from noisy points, its file, and the robot:// URI that names it."""

from __future__ import annotations

import math
import subprocess
import sys
import random
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.handsets.base import HandsetUriError
from harness.handsets.registry import parse_uri, scheme_module
from harness.profiles import load_profile
from harness.robot.calibration_fit import CalibrationError, plausible_rough, screen_scale
from harness.robot.gestures import Feeds
from harness.robot.limits import Box, Limits
from harness.robot.mapping import BedMap, Calibration, load_calibration, write_calibration


def _truth(x: float, y: float) -> tuple[float, float]:
    # 17.35 px per mm, turned 3 degrees, the bed's Y running against the screen's y, the phone off the origin
    a, k = math.radians(3.0), 17.35
    return (k * (math.cos(a) * x - math.sin(a) * y) + 1900.0, -k * (math.sin(a) * x + math.cos(a) * y) - 700.0)


def test_the_map_is_fitted_through_noisy_points_and_its_residual_is_the_noise() -> None:
    rng = random.Random(5)
    mm = [(-100 + 25 * i, -130 + 30 * j) for i in range(3) for j in range(3)]
    px = [(u + rng.gauss(0, 1.0), v + rng.gauss(0, 1.0)) for u, v in (_truth(*p) for p in mm)]
    bed, errors = BedMap.fit(mm, px)
    assert len(errors) == 9 and max(errors) < 4.0
    for x, y in ((-80.0, -110.0), (-60.0, -90.0)):
        assert bed.to_px(x, y) == pytest.approx(_truth(x, y), abs=2.0)
        assert bed.to_mm(*bed.to_px(x, y)) == pytest.approx((x, y), abs=1e-9)
    assert bed.px_per_mm == pytest.approx(17.35, rel=0.01)
    with pytest.raises(ValueError, match="in a line"):
        BedMap.fit([(0, 0), (1, 1), (2, 2)], [(0, 0), (1, 1), (2, 2)])


def test_a_rough_map_of_misread_tips_is_refused_before_it_aims_the_stylus_off_the_phone() -> None:
    """CI (bench seed 997207, once): tips misread at the first points gave a map that aimed the next point at bed
    x -223 mm, and calibrate ended in the robot's refusal. A first map whose scale is not the screen's is the
    calibration's own one-line error; one at the hover height (about 1.1 times the glass's) passes."""
    profile = load_profile("lumia-930")
    true = screen_scale(profile)
    mm = [(-75 + 12 * i, -100 + 20 * j) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    for ratio, fits in ((1.1, True), (0.9, True), (0.3, False), (2.5, False)):
        bed, _ = BedMap.fit(mm, [(true * ratio * x, -true * ratio * y) for x, y in mm])
        if fits:
            plausible_rough(bed, profile, len(mm))
        else:
            with pytest.raises(CalibrationError, match=rf"at 9 points .* {true:.2f}: they were misread"):
                plausible_rough(bed, profile, len(mm))


def test_a_calibration_file_reads_back_as_written_and_a_wrong_field_is_named(tmp_path: Path) -> None:
    bed, _ = BedMap.fit([(0, 0), (10, 0), (0, 10)], [_truth(0, 0), _truth(10, 0), _truth(0, 10)])
    limits = Limits(Box.from_travel(150, 200, 50), touch_z=-38.25, hover_z=-20.0, area=((-110.0, -40.0), (-170.0, -30.0)))
    cal = Calibration("lumia-930", bed, limits, Feeds(2500.0, 5000.0), residual_px=1.75, worst_px=3.5, points=9,
                      screen_corners=[(100.0, 50.0), (400.0, 52.0), (398.0, 600.0), (102.0, 598.0)],
                      meta={"camera": "http://127.0.0.1:1/stream.mjpg", "robot": "/dev/pts/9"})
    path = tmp_path / "slot.toml"
    write_calibration(path, cal)
    back = load_calibration(path)
    assert back.limits == limits and back.feeds == Feeds(2500.0, 5000.0)
    assert back.bed_map.to_mm(540, 960) == pytest.approx(cal.bed_map.to_mm(540, 960), abs=1e-3)
    assert (back.residual_px, back.points, back.screen_corners, back.meta) == (1.75, 9, cal.screen_corners, cal.meta)
    text = path.read_text()
    for old, new, field in (("touch_z = -38.25", "touch_z = -60.0", "robot"),
                            ("mm_to_px = [", "mm_to_px = [[1, 2], ", "calibration.mm_to_px"),
                            ("residual_px", "residual", "calibration.residual")):
        bad = tmp_path / f"bad-{field}.toml"
        bad.write_text(text.replace(old, new, 1))
        with pytest.raises(ConfigError, match=rf"bad-{field}\.toml: {field}"):
            load_calibration(bad)


def test_robot_uris_take_a_percent_encoded_port_and_need_camera_calibration_and_profile() -> None:
    uri = ("robot://rfc2217%3A%2F%2Frack7%3A4003?camera=http%3A%2F%2F127.0.0.1%3A8080%2Fstream.mjpg"
           "&calibration=%2Flab%2Fslot3.toml&profile=lumia-930")
    address = scheme_module("robot").parse(parse_uri(uri))
    assert (address.port, address.camera, address.calibration, address.profile, address.power) == (
        "rfc2217://rack7:4003", "http://127.0.0.1:8080/stream.mjpg", "/lab/slot3.toml", "lumia-930", None)
    assert scheme_module("robot").parse(parse_uri("robot:///dev/ttyUSB0?camera=/dev/video0&calibration=c.toml"
                                                  "&profile=lumia-520&power=lcus:/dev/ttyUSB1%231")).power == \
        "lcus:/dev/ttyUSB1#1"
    for bad, says in (("robot://?camera=x&calibration=c&profile=p", "no robot port"),
                      ("robot:///dev/ttyUSB0?calibration=c&profile=p", "no camera="),
                      ("robot:///dev/ttyUSB0?camera=x&calibration=c&profile=p&zoom=2", "unknown option 'zoom'")):
        with pytest.raises(HandsetUriError, match=says):
            parse_uri(bad)


def test_calibrate_says_in_one_line_when_the_robot_is_not_there(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "harness", "calibrate", "--camera", "http://127.0.0.1:9/stream.mjpg",
                          "--robot", str(tmp_path / "ttyUSB9"), "--profile", "lumia-930", "-o", str(tmp_path / "c.toml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harness calibrate: ") and "ttyUSB9" in lines[0]
    assert not (tmp_path / "c.toml").exists()
