"""The rack inventory: loading, one-line errors for each kind of mistake, port resolution, writing."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from serial.tools.list_ports_common import ListPortInfo

from harness.errors import ConfigError
from harness.lab.inventory import (
    HandsetEntry, Inventory, PortNotFound, PowerSwitch, emulated_entries, resolve_port, write_emulated_inventory,
    write_inventory,
)
from harness.profiles import profile_names

GOOD = """
[rack]
name = "rack7"

[ports]
relay = "usb-serial:A50285BI"

[[handset]]
name = "lumia-930-01"
profile = "lumia-930"
uri = "adb-usb://930D00000001"
console = "usb-location:1-1.4:1.0"
modem = "rfc2217://rack7:4001?ign_set_control&timeout=3"
modem_number = "+15550100"
power = { kind = "lcus", port = "@relay", channel = 1 }
tags = ["nightly"]

[[handset]]
name = "lumia-520-01"
profile = "lumia-520"
uri = "adb-tcp://rack8:5555"
os_version = "8.0"
power = { kind = "uhubctl", hub = "1-1", channel = 4 }

[[handset]]
name = "emu-1320"
profile = "lumia-1320"
uri = "emulator://lumia-1320"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rack.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Inventory.load(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "rack.toml") + ": ")
    return info.value


def test_good_inventory_loads(tmp_path: Path) -> None:
    inv = Inventory.load(write(tmp_path, GOOD))
    assert inv.rack == "rack7"
    assert inv.names() == ["lumia-930-01", "lumia-520-01", "emu-1320"]
    first = inv.get("lumia-930-01")
    assert first.scheme == "adb-usb" and not first.emulated
    assert first.power == PowerSwitch("lcus", 1, port="@relay")
    assert first.ports() == {"console": "usb-location:1-1.4:1.0",
                             "modem": "rfc2217://rack7:4001?ign_set_control&timeout=3", "power": "@relay"}
    assert first.tags == ("nightly",)
    assert inv.get("lumia-520-01").power == PowerSwitch("uhubctl", 4, hub="1-1")
    assert inv.os_version_of(inv.get("lumia-520-01")) == "8.0"       # the inventory's word
    assert inv.os_version_of(inv.get("lumia-930-01")) == "8.1"       # the profile's
    assert [e.name for e in inv.matching(profile="lumia-520")] == ["lumia-520-01"]
    assert [e.name for e in inv.matching(os_version="8.0")] == ["lumia-520-01", "emu-1320"]
    assert [e.name for e in inv.matching(tags=["nightly"])] == ["lumia-930-01"]
    assert inv.get("emu-1320").emulated


@pytest.mark.parametrize("text, field, words", [
    # missing field
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\n', "handset[1].uri", "missing"),
    ('[[handset]]\nname = "a"\nuri = "adb-usb://X"\n', "handset[1].profile", "missing"),
    ("[rack]\nname = \"r\"\n", "handset", "missing"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\npower = { kind = "lcus", channel = 1 }\n',
     "handset[1].power.port", "missing"),
    # wrong type
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\nconsole = 3\n', "handset[1].console",
     "expected a string, got int"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\npower = { kind = "lcus", port = "/dev/x", channel = "1" }\n',
     "handset[1].power.channel", "expected an integer"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\ntags = ["a", 2]\n', "handset[1].tags[1]",
     "expected a string"),
    ('handset = "x"\n', "handset", "expected an array"),
    # unknown key
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\nconsol = "/dev/ttyS0"\n',
     "handset[1].consol", "unknown key"),
    ('[racks]\n', "racks", "unknown key"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\npower = { kind = "uhubctl", hub = "1-1", channel = 2, port = "/dev/x" }\n',
     "handset[1].power.port", "unknown key for a uhubctl switch"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\npower = { kind = "x10", channel = 2 }\n',
     "handset[1].power.kind", "unknown power switch"),
    # unknown profile
    ('[[handset]]\nname = "a"\nprofile = "lumia-9300"\nuri = "adb-usb://X"\n', "handset[1].profile", "unknown profile 'lumia-9300'"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "emulator://nokia-3310"\n', "handset[1].uri", "no profile 'nokia-3310'"),
    # duplicate name / uri
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\n'
     '[[handset]]\nname = "a"\nprofile = "lumia-520"\nuri = "adb-usb://Y"\n', "handset[2].name", "duplicate name 'a' (also handset[1])"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\n'
     '[[handset]]\nname = "b"\nprofile = "lumia-520"\nuri = "adb-usb://X"\n', "handset[2].uri", "also handset[1]"),
    # bad URI scheme / shape
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "usb://X"\n', "handset[1].uri", "scheme must be"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-tcp://rack7"\n', "handset[1].uri", "HOST:PORT"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-tcp://rack7:70000"\n', "handset[1].uri", "1..65535"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://"\n', "handset[1].uri", "nothing after"),
    # bad values
    ('[[handset]]\nname = "a b"\nprofile = "lumia-930"\nuri = "adb-usb://X"\n', "handset[1].name", "letters, digits"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\nconsole = "@nope"\n', "handset[1].console",
     "no such entry in [ports]"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\nmodem = "usb-serial:"\n', "handset[1].modem",
     "nothing after usb-serial:"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\nmodem_number = "call me"\n',
     "handset[1].modem_number", "phone number"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\nos_version = "10"\n', "handset[1].os_version",
     "must be one of"),
    ('[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\npower = { kind = "lcus", port = "/dev/x", channel = 0 }\n',
     "handset[1].power.channel", "1..64"),
    ('[ports]\nr = "@other"\n[[handset]]\nname = "a"\nprofile = "lumia-930"\nuri = "adb-usb://X"\n', "ports.r",
     "may not refer"),
    # not TOML at all
    ('[[handset]\n', "(toml)", ""),
])
def test_each_mistake_gets_a_one_line_error_naming_the_field(tmp_path: Path, text: str, field: str, words: str) -> None:
    err = error_of(tmp_path, text)
    assert err.field == field, str(err)
    assert words in err.problem, str(err)
    assert f": {field}: " in str(err)


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: \(file\): cannot read"):
        Inventory.load(tmp_path / "missing.toml")
    (tmp_path / "rack.toml").write_bytes(b'[[handset]]\nname = "\xff"\n')
    with pytest.raises(ConfigError, match=r"not UTF-8 at byte 20"):
        Inventory.load(tmp_path / "rack.toml")


def test_unknown_handset_name_lists_known_ones(tmp_path: Path) -> None:
    inv = Inventory.load(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"no handset named 'x' \(known: lumia-930-01, lumia-520-01, emu-1320\)"):
        inv.get("x")


# ---------------------------------------------------------------------- port resolution
def port(device: str, serial: str | None = None, location: str | None = None) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.serial_number, info.location = serial, location
    info.vid, info.pid = (0x0403, 0x6001) if serial or location else (None, None)
    return info


PORTS = [port("/dev/ttyS0"), port("/dev/ttyUSB0", "A50285BI", "1-1.2:1.0"), port("/dev/ttyUSB1", "FT4232X", "1-1.3:1.0"),
         port("/dev/ttyUSB2", "FT4232X", "1-1.3:1.1"), port("/dev/ttyACM0", "MODEM1", "1-1.4:1.2")]


def test_resolve_by_serial_location_and_name() -> None:
    assert resolve_port("usb-serial:A50285BI", comports=PORTS) == "/dev/ttyUSB0"
    assert resolve_port("usb-location:1-1.3:1.1", comports=PORTS) == "/dev/ttyUSB2"
    assert resolve_port("usb-location:1-1.4", comports=PORTS) == "/dev/ttyACM0"   # one interface: suffix may go
    assert resolve_port("@relay", {"relay": "usb-serial:MODEM1"}, PORTS) == "/dev/ttyACM0"
    for url in ("/dev/ttyS7", "rfc2217://rack7:4001?ign_set_control&timeout=3", "socket://127.0.0.1:9", "loop://"):
        assert resolve_port(url, comports=PORTS) == url


def test_unresolvable_ports_raise_typed_errors() -> None:
    with pytest.raises(PortNotFound, match=r"usb-serial:NOPE: not attached \(seen: /dev/ttyUSB0 \(location 1-1.2:1.0"):
        resolve_port("usb-serial:NOPE", comports=PORTS)
    with pytest.raises(PortNotFound, match=r"ambiguous, 2 ports match .*name it by usb-location"):
        resolve_port("usb-serial:FT4232X", comports=PORTS)
    with pytest.raises(PortNotFound, match="ambiguous"):
        resolve_port("usb-location:1-1.3", comports=PORTS)
    with pytest.raises(PortNotFound, match="no USB serial ports attached"):
        resolve_port("usb-location:1-9", comports=[port("/dev/ttyS0")])


def test_inventory_resolution_names_handset_and_field(tmp_path: Path) -> None:
    inv = Inventory.load(write(tmp_path, GOOD))
    entry = inv.get("lumia-930-01")
    assert inv.resolve_port(entry, "power", PORTS) == "/dev/ttyUSB0"
    with pytest.raises(PortNotFound, match=r"rack\.toml: handset lumia-930-01: console: usb-location:1-1.4:1.0: not attached"):
        inv.resolve_port(entry, "console", PORTS[:2])
    with pytest.raises(ConfigError, match=r"handset lumia-520-01\.console: not set"):
        inv.resolve_port(inv.get("lumia-520-01"), "console", PORTS)


def test_resolve_against_this_machines_ports() -> None:
    # Whatever is attached here, a location nobody has is reported as not attached.
    with pytest.raises(PortNotFound, match="not attached"):
        resolve_port("usb-location:99-9.9.9:1.0")


# ---------------------------------------------------------------------- writing
names = st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=12).filter(lambda s: s[0].isalnum())
free_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
def _plain_spec(s: str) -> bool:
    if not s.strip() or s.startswith("@"):
        return False
    return not s.startswith(("usb-serial:", "usb-location:")) or bool(s.partition(":")[2])


specs = st.one_of(free_text.filter(_plain_spec), st.just("@relay"),
                  st.builds(lambda k, v: f"{k}:{v}", st.sampled_from(["usb-serial", "usb-location"]), names))


@st.composite
def entries(draw: st.DrawFn) -> list[HandsetEntry]:
    count = draw(st.integers(1, 4))
    chosen = draw(st.lists(names, min_size=count, max_size=count, unique=True))
    out = []
    for i, name in enumerate(chosen):
        profile = draw(st.sampled_from(profile_names()))
        uri = draw(st.sampled_from([f"adb-usb://SER{i}", f"adb-tcp://host{i}:{5555 + i}", f"emulator://{profile}"]))
        power = draw(st.one_of(st.none(), st.builds(PowerSwitch, st.just("lcus"), st.integers(1, 64), port=specs),
                               st.builds(PowerSwitch, st.just("uhubctl"), st.integers(1, 64), hub=free_text)))
        out.append(HandsetEntry(
            name=name, profile=profile, uri=uri, console=draw(st.one_of(st.none(), specs)),
            modem=draw(st.one_of(st.none(), specs)), modem_number=draw(st.one_of(st.none(), st.from_regex(r"\+[0-9]{3,15}", fullmatch=True))),
            power=power, os_version=draw(st.one_of(st.none(), st.sampled_from(["8.0", "8.1"]))),
            mail=draw(st.one_of(st.none(), free_text)), tags=tuple(draw(st.lists(free_text, max_size=3))),
        ))
    return out


@settings(max_examples=60, deadline=None)
@given(handsets=entries(), rack=st.one_of(st.none(), names))
def test_write_then_load_gives_the_same_inventory(tmp_path_factory: pytest.TempPathFactory,
                                                   handsets: list[HandsetEntry], rack: str | None) -> None:
    path = tmp_path_factory.mktemp("inv") / "rack.toml"
    write_inventory(path, handsets, {"relay": "usb-serial:A50285BI"}, rack)
    loaded = Inventory.load(path)
    assert loaded.handsets == handsets
    assert loaded.rack == rack and loaded.ports == {"relay": "usb-serial:A50285BI"}


def test_writer_refuses_a_bad_inventory(tmp_path: Path) -> None:
    bad = [HandsetEntry("a", "lumia-930", "adb-usb://X"), HandsetEntry("a", "lumia-520", "adb-usb://Y")]
    with pytest.raises(ConfigError, match="duplicate name"):
        write_inventory(tmp_path / "rack.toml", bad)
    assert not (tmp_path / "rack.toml").exists()


def test_emulated_rack_inventory(tmp_path: Path) -> None:
    endpoints = {"handsets": [
        {"profile": "lumia-520", "serial": "520D1", "adb": "127.0.0.1:40001", "console": "/dev/pts/7",
         "modem": "/dev/pts/8", "control": "127.0.0.1:40002", "mail": "/tmp/m1"},
        {"profile": "lumia-930", "serial": "930D1", "adb": "127.0.0.1:40003", "control": "127.0.0.1:40004"},
        {"profile": "lumia-520", "serial": "520D2", "adb": "127.0.0.1:40005", "modem_number": "+15550201"},
    ], "power": "/dev/pts/9", "power_channels": 3}
    entries_, ports = emulated_entries(endpoints)
    assert ports == {"relay": "/dev/pts/9"}
    assert [e.name for e in entries_] == ["lumia-520-01", "lumia-930-01", "lumia-520-02"]
    path = write_emulated_inventory(tmp_path / "rack.toml", endpoints, rack="emu")
    inv = Inventory.load(path)
    first = inv.get("lumia-520-01")
    assert (first.uri, first.console, first.modem, first.control, first.mail) == (
        "adb-tcp://127.0.0.1:40001", "/dev/pts/7", "/dev/pts/8", "127.0.0.1:40002", "/tmp/m1")
    assert first.power == PowerSwitch("lcus", 1, port="@relay")
    assert inv.get("lumia-520-02").power.channel == 3 and inv.get("lumia-520-02").modem_number == "+15550201"
    assert inv.resolve_port(first, "power") == "/dev/pts/9"
    assert inv.rack == "emu"


def test_a_labs_own_profiles_directory(tmp_path: Path) -> None:
    from harness.profiles import PROFILES_DIR

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "lab-phone.toml").write_text((PROFILES_DIR / "lumia-630.toml").read_text())
    path = write(tmp_path, '[[handset]]\nname = "a"\nprofile = "lab-phone"\nuri = "adb-usb://X"\n')
    inv = Inventory.load(path, profiles_dir=profiles)
    assert inv.profile_of(inv.get("a")).name == "lab-phone" and inv.os_version_of(inv.get("a")) == "8.1"
    with pytest.raises(ConfigError, match=r"handset\[1\]\.profile: unknown profile 'lab-phone'"):
        Inventory.load(path)


def test_emulated_handsets_without_a_rack_board_use_their_own() -> None:
    entries_, ports = emulated_entries({"handsets": [
        {"profile": "lumia-930", "adb": "127.0.0.1:40001", "power": "/dev/pts/4", "power_channels": 1}]})
    assert ports == {} and entries_[0].power == PowerSwitch("lcus", 1, port="/dev/pts/4")
