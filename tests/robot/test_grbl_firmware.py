"""GRBL 1.1h itself, built as grbl-sim, held to the answers our emulated controller is held to, and driven by the driver.

Opt-in: ``GRBL_SIM=/path/to/grbl_sim.exe`` (docs/camera-robot.md says how to
build one); without it every test here is skipped. The firmware runs on a
pty of its own (it reads its stdin as a terminal), bridged to a pty that the
test and the driver open like ``/dev/ttyUSB0``. Its settings are the
emulated robot's, except ``$5=1``: grbl-sim leaves every input pin low, which
GRBL reads as every limit switch pressed, so the pins are inverted to read
as released. It has no limit switches at all, so homing fails (``ALARM:9``),
and its status reports always carry ``Pn:PRHS`` (probe, reset, hold and
start pins, low too); the comparisons leave ``Pn`` out for that reason.
"""

from __future__ import annotations

import os
import subprocess
import threading
import tty
from pathlib import Path
from typing import Iterator

import pytest

from grbl_cases import BAD_BLOCKS, BANNER, GOOD_LINES, LOCKED, SETTINGS, Peer, fields
from harness.emulator.grbl_system import DEFAULT_SETTINGS, setting_line
from harness.emulator.pty_port import PtyPort
from harness.robot import Box, GrblRobot, Limits, RobotAlarm, RobotCommandError, RobotError
from harness.serial_port import SerialPort

GRBL_SIM = os.environ.get("GRBL_SIM", "")
pytestmark = pytest.mark.skipif(not (GRBL_SIM and os.access(GRBL_SIM, os.X_OK)),
                                reason="set GRBL_SIM to a built grbl-sim (docs/camera-robot.md says how)")
#: The firmware's settings: the emulated robot's, with the limit pins inverted (see above).
SETTINGS_SENT = {**DEFAULT_SETTINGS, 5: 1}
ANSWER = 15.0


class Firmware:
    """grbl-sim on its own pty, bridged to ``path``; its EEPROM (settings) lives in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = PtyPort("grbl-sim", self._to_firmware)
        self.path = self.port.start()
        self.proc: subprocess.Popen[bytes] | None = None
        self.master = -1

    def power_up(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        # unbuffered stdin: grbl-sim polls its stdin with select() and reads it through stdio, so bytes that a
        # buffered read took in wait, unseen, for the next byte to arrive
        self.proc = subprocess.Popen(["stdbuf", "-i0", "-o0", GRBL_SIM, "-n", "-s", "/dev/null", "-b", "/dev/null"],
                                     stdin=slave, stdout=slave, stderr=open(self.folder / "grbl-sim.err", "wb"),
                                     cwd=self.folder, start_new_session=True)
        os.close(slave)
        self.master = master
        threading.Thread(target=self._from_firmware, args=(master,), name="grbl-sim out", daemon=True).start()

    def _to_firmware(self, data: bytes) -> None:
        if self.master >= 0:
            os.write(self.master, data)

    def _from_firmware(self, master: int) -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            self.port.write(data)

    def power_down(self) -> None:
        """Ctrl-F, grbl-sim's own clean exit (it closes its EEPROM file); killed if it does not go."""
        if self.proc is None:
            return
        self._to_firmware(b"\x06")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self.master)
        self.master, self.proc = -1, None

    def stop(self) -> None:
        self.power_down()
        self.port.stop()


@pytest.fixture(scope="module")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Firmware]:
    """The firmware set up as the emulated robot, then powered up again (homing locks it at power-up only)."""
    fw = Firmware(tmp_path_factory.mktemp("grbl-sim"))
    try:
        fw.power_up()
        peer = Peer(fw.path)
        peer.lines_until(BANNER)  # a fresh EEPROM first says error:7 and restores GRBL's defaults
        for number, value in sorted(SETTINGS_SENT.items(), key=lambda item: item[0] != 22):  # soft limits need homing
            assert peer.ask(f"${number}={value:g}") == ["ok"], number
        peer.close()
        fw.power_down()
        fw.power_up()
        yield fw
    finally:
        fw.stop()


@pytest.fixture
def peer(firmware: Firmware) -> Iterator[Peer]:
    peer = Peer(firmware.path)
    try:
        yield peer
    finally:
        peer.close()


def test_it_powers_up_locked_and_reports_as_the_emulator_does(peer: Peer) -> None:
    assert peer.lines_until(LOCKED) == ["", BANNER, LOCKED]
    reports = [peer.status() for _ in range(12)]
    print("\n".join(reports))
    assert [[f for f in fields(r) if f != "Pn"] for r in reports] == [["Alarm", "MPos", "FS", "WCO"],
                                                                       ["Alarm", "MPos", "FS", "Ov"]] \
        + [["Alarm", "MPos", "FS"]] * 8 + [["Alarm", "MPos", "FS", "WCO"], ["Alarm", "MPos", "FS", "Ov"]]
    assert reports[0].startswith("<Alarm|MPos:0.000,0.000,0.000|FS:0,0|")
    assert peer.ask("$$") == [setting_line(n, v) for n, v in sorted(SETTINGS_SENT.items())] + ["ok"]
    assert peer.ask("G0 X-1") == ["error:9"]
    assert peer.ask("$X") == ["[MSG:Caution: Unlocked]", "ok"]


def test_the_answers_the_emulator_is_held_to_are_the_firmwares(peer: Peer) -> None:
    peer.reset()
    peer.ask("$X")
    assert [(block, peer.ask(block)) for block, _ in BAD_BLOCKS] == [(b, [f"error:{c}"]) for b, c in BAD_BLOCKS]
    peer.reset()
    peer.ask("$X")
    peer.ask("G53 G0 X0 Y0 Z0")
    answers = [(line, peer.ask_all(line, BANNER) if BANNER in want else peer.ask(line)) for line, want in GOOD_LINES]
    assert answers == GOOD_LINES
    assert peer.status().startswith("<Idle|MPos:-3.000,-3.000,0.000|")
    assert [(line, peer.ask(line)) for line, _ in SETTINGS] == SETTINGS
    assert peer.ask("$10=1") == ["ok"]


def test_limits_and_resets_are_answered_as_the_emulator_answers_them(peer: Peer) -> None:
    peer.reset()
    peer.ask("$X")
    assert peer.ask("G0 X5") == ["ALARM:2"]  # past the travel: a soft limit
    assert peer.line() == "[MSG:Reset to continue]"
    peer.port.write(b"G0 X-10\n?")  # neither is heard now
    assert peer.reset() == ["ok", "", BANNER]  # the line that raised the alarm is answered before the banner
    assert peer.line() == LOCKED
    peer.ask("$X")
    assert peer.ask("G53 G1 X-100 F600") == ["ok"]  # ten seconds of motion
    peer.port.write(b"G4 P0\n")
    assert peer.status().startswith("<Run|")
    assert peer.reset() == ["ALARM:3", "ok", "", BANNER]
    assert peer.line() == LOCKED


def test_the_driver_drives_the_firmware(firmware: Firmware) -> None:
    limits = Limits(Box.from_travel(150.0, 200.0, 50.0), touch_z=-45.0, hover_z=-5.0)
    with GrblRobot(SerialPort(firmware.path), limits, answer_timeout=ANSWER) as robot:
        robot.reset()
        assert Box.from_settings(robot.settings()) == limits.bed
        with pytest.raises(RobotAlarm, match="could not find a limit switch") as homing:
            robot.home()  # grbl-sim has no switches
        assert homing.value.code == 9 and homing.value.position_lost
        robot.unlock()  # the failed homing's own ok and banner are not taken for this line's answer
        assert robot.send("G21") == [] and robot.send("G90") == []  # what home() sends after homing
        with pytest.raises(RobotCommandError, match="feed rate") as no_feed:
            robot.send("G1 X-10")
        assert no_feed.value.code == 22
        robot.move_to(x=-20.0, y=-30.0, z=-5.0)
        assert robot.wait_idle(ANSWER).mpos == (-20.0, -30.0, -5.0)
        robot.move_to(x=-25.0, feed=3000.0)  # G1 at a feed
        robot.move_to(x=-20.0, feed=3000.0)
        assert robot.wait_idle(ANSWER).mpos == (-20.0, -30.0, -5.0)
    wide = Limits(Box.from_travel(300.0, 300.0, 50.0), touch_z=-45.0, hover_z=-5.0)
    with GrblRobot(SerialPort(firmware.path), wide, answer_timeout=ANSWER) as robot:
        robot.reset()
        robot.unlock()
        with pytest.raises(RobotAlarm) as limit:
            robot.move_to(x=-200.0)  # inside the driver's limits, past the controller's travel
        assert limit.value.code == 2 and "X-200" in str(limit.value)
        with pytest.raises(RobotAlarm, match="answers nothing until a reset"):
            robot.status()
        robot.reset()
        robot.unlock()
        robot.move_to(x=-10.0)
        assert robot.wait_idle(ANSWER).mpos == (-10.0, -30.0, -5.0)
        with pytest.raises(RobotError, match="ALARM:2.*recovery by re-homing failed.*ALARM:9"):
            robot.recovering(lambda: robot.move_to(x=-250.0))  # recovery resets and homes: no switches here
