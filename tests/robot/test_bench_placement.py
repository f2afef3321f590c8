"""The emulated robot's bed: a seeded placement the harness is never told, and maps that agree with the spec sheet."""

from __future__ import annotations

import json
import math
import random

import pytest

from harness.emulator.bench import place
from harness.profiles import load_profile
from robot_slot import Slot

SEEDS = random.Random(1717).sample(range(10**6), 40)


def _dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def test_the_screen_on_the_bed_has_the_spec_sheets_size_and_the_placement_stays_in_bounds() -> None:
    # Lumia 930: a 5.0" 16:9 screen is 62.26 x 110.69 mm; the body 71 x 137 mm
    profile = load_profile("lumia-930")
    centres, angles = set(), set()
    for seed in SEEDS:
        bench = place(profile, seed)
        tl, tr, br, bl = bench.screen_corners_mm()
        assert _dist(tl, tr) == pytest.approx(62.26, abs=0.02)
        assert _dist(tr, br) == pytest.approx(110.69, abs=0.02)
        assert _dist(*bench.body_corners_mm()[:2]) == pytest.approx(71.0)
        # the middle of the travel ($130=150, $131=200) give or take 10 mm, turned by at most 5 degrees
        assert _dist(bench.centre, (-75.0, -100.0)) <= 10.0
        assert abs(bench.angle_deg) <= 5.0
        assert math.degrees(math.atan2(tr[1] - tl[1], tr[0] - tl[0])) == pytest.approx(bench.angle_deg)
        # face up, top towards +Y: the screen's top edge is behind its bottom edge
        assert tl[1] > bl[1]
        # glass: the holder plate at -48, a shim of 0..2 mm, the 9.8 mm phone
        assert -38.2 <= bench.glass_z <= -36.2
        centres.add(bench.centre)
        angles.add(round(bench.angle_deg, 3))
    assert len(centres) == len(SEEDS) and len(angles) > len(SEEDS) // 2  # the seed moves the phone
    assert place(profile, SEEDS[0]) == place(profile, SEEDS[0])


def test_pixels_and_millimetres_map_both_ways_and_the_keys_sit_below_the_screen() -> None:
    profile = load_profile("lumia-520")
    bench = place(profile, SEEDS[1])
    rng = random.Random(3)
    for _ in range(50):
        px, py = rng.uniform(0, 480), rng.uniform(0, 800)
        x, y = bench.bed_mm(px, py)
        assert bench.screen_px(x, y) == pytest.approx((px, py), abs=1e-6)
        assert bench.on_screen(px, py) and bench.key_at(x, y) is None
    # a 4.0" 480x800 screen: 0.1089 mm per pixel; 100 px apart on the screen is 10.89 mm apart on the bed
    assert _dist(bench.bed_mm(100, 100), bench.bed_mm(200, 100)) == pytest.approx(10.89, abs=0.01)
    keys = bench.keys_mm()
    assert [name for name in ("back", "start", "search") if bench.key_at(*keys[name]) == name] == ["back", "start", "search"]
    for name, point in keys.items():
        px, py = bench.screen_px(*point)
        assert py > 800 and not bench.on_screen(px, py) and bench.on_body(*point)
    # back is left of start, search right of it, as the phone is held
    assert bench.screen_px(*keys["back"])[0] < bench.screen_px(*keys["start"])[0] < bench.screen_px(*keys["search"])[0]


def test_the_seed_is_told_through_the_control_socket_only(slot: Slot) -> None:
    # the worker's slot (conftest.py): lumia-930 on the run's random bench seed
    announced = json.loads(slot.line)
    assert not [k for k in announced if any(w in k for w in ("bench", "seed", "placement"))], announced
    assert str(slot.seed) not in [str(v) for v in announced.values()], announced
    told = slot.control.call("bench")
    expected = place(load_profile("lumia-930"), slot.seed)
    assert told["seed"] == slot.seed
    assert told["centre"] == pytest.approx(list(expected.centre), abs=1e-3)
    assert told["glass_z"] == pytest.approx(expected.glass_z, abs=1e-3)
    assert told["angle_deg"] == pytest.approx(expected.angle_deg, abs=1e-3)
