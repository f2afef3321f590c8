"""Serial peers' drivers built from a resource: nothing opened when built, open/close/with, errors naming the port.

The ports are real ptys (and a refused TCP port for rfc2217); the peer side is
the pty's master, driven by the test.
"""

from __future__ import annotations

import os
import socket
import termios
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from harness.console import SerialConsole, console_port
from harness.errors import DeviceUnavailable
from harness.modem import GsmModem
from harness.serial_port import SerialPort

DEADLINE = 20.0

#: Each driver of a serial peer, built from its resource (the modem without its AT set-up: the peer is a bare pty).
DRIVERS = {"modem": lambda port: GsmModem(port, init=False), "console": lambda port: SerialConsole(port)}


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A pty's master and a stable path to its slave (a symlink, as udev names a port)."""
    master, slave = os.openpty()
    link = tmp_path / "ttyPEER"
    link.symlink_to(os.ttyname(slave))
    try:
        yield master, link
    finally:
        os.close(master)
        os.close(slave)


def _readers(path: Path | str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.is_alive() and str(path) in t.name]


def _read_until(fd: int, wanted: bytes) -> bytes:
    seen = b""
    deadline = time.monotonic() + DEADLINE
    os.set_blocking(fd, False)
    while wanted not in seen:
        assert time.monotonic() < deadline, f"expected {wanted!r} from the driver, saw {seen!r}"
        try:
            seen += os.read(fd, 4096)
        except BlockingIOError:
            threading.Event().wait(0.02)  # polling a non-blocking pty, bounded by the deadline above
    return seen


def test_a_modem_is_built_before_its_port_exists_and_opens_it_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "ttyLATER"
    modem = GsmModem(SerialPort(str(path)), timeout=5.0, init=False)  # no port yet: building touches nothing
    assert not modem.is_open and not _readers(path)
    master, slave = os.openpty()
    try:
        path.symlink_to(os.ttyname(slave))
        with modem:
            assert modem.is_open and _readers(path), "open() starts the reader"
            answer: list[list[str]] = []
            asker = threading.Thread(target=lambda: answer.append(modem.command("AT+CGMI")))
            asker.start()
            assert b"AT+CGMI\r" in _read_until(master, b"AT+CGMI\r")
            os.write(master, b"\r\nQuectel\r\n\r\nOK\r\n")
            asker.join(DEADLINE)
            assert answer == [["Quectel"]]
        assert not modem.is_open
        deadline = time.monotonic() + DEADLINE
        while _readers(path) and time.monotonic() < deadline:
            threading.Event().wait(0.05)
        assert not _readers(path), "close() ends the reader thread"
        modem.close()  # again: nothing to do, no error
    finally:
        os.close(master)
        os.close(slave)


def test_a_modem_not_opened_says_so_instead_of_failing_inside(pty: tuple[int, Path]) -> None:
    _, path = pty
    modem = GsmModem(SerialPort(str(path)), init=False)
    modem.close()  # closing a driver never opened is fine
    with pytest.raises(DeviceUnavailable, match=r"^modem .*ttyPEER: not open"):
        modem.command("AT")


@pytest.mark.parametrize("what", sorted(DRIVERS))
def test_opening_a_port_that_is_not_there_names_it(what: str, tmp_path: Path) -> None:
    path = tmp_path / "ttyGONE"
    driver = DRIVERS[what](SerialPort(str(path)))
    with pytest.raises(DeviceUnavailable) as info:
        driver.open()
    message = str(info.value)
    assert message.startswith(f"{what} {path}: cannot open") and "\n" not in message
    assert not driver.is_open and not _readers(path)
    driver.close()


@pytest.mark.parametrize("what", sorted(DRIVERS))
def test_a_port_url_with_credentials_never_shows_them(what: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    resource = SerialPort(f"rfc2217://lab:s3cret-pw@127.0.0.1:{port}")
    driver = DRIVERS[what](resource)
    assert "s3cret-pw" not in f"{resource} {resource!r} {driver!r} {driver.url}"
    with pytest.raises(DeviceUnavailable) as info:
        driver.open()
    assert f"{what} rfc2217://<credentials>@127.0.0.1:{port}" in str(info.value)
    assert "s3cret-pw" not in str(info.value)


def test_a_console_opens_when_asked_logs_what_it_read_and_closes_once(pty: tuple[int, Path], tmp_path: Path) -> None:
    master, path = pty
    log = tmp_path / "console.log"
    console = SerialConsole(SerialPort(str(path)), log_path=log)
    assert not console.is_open and not log.exists(), "building a console opens neither its port nor its log"
    with pytest.raises(DeviceUnavailable, match=r"^console .*ttyPEER: not open"):
        console.send(b"x")
    with console:
        os.write(master, b"boot ok\r\nwp> ")
        console.expect(r"wp> ", timeout=DEADLINE)
        console.send_line("ver")
        assert b"ver\r\n" in _read_until(master, b"ver\r\n")
    assert not console.is_open
    assert "boot ok" in log.read_text()
    console.close()  # again: nothing to do, no error
    deadline = time.monotonic() + DEADLINE
    while _readers(path) and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    assert not _readers(path), "close() ends the reader thread"


def test_a_console_port_takes_the_line_settings_of_its_handset_profile(tmp_path: Path,
                                                                      pty: tuple[int, Path]) -> None:
    # a profile whose console is wired 9600 7E2 (as some debug UARTs are); a person's --baudrate wins
    shipped = (Path(__file__).resolve().parents[2] / "device_profiles" / "lumia-930.toml").read_text()
    assert "baudrate = 115200" in shipped and 'parity = "N"' in shipped
    wired = tmp_path / "uart-7e2.toml"
    wired.write_text(shipped.replace("baudrate = 115200", "baudrate = 9600").replace('parity = "N"', 'parity = "E"')
                     .replace("bytesize = 8", "bytesize = 7").replace("stopbits = 1", "stopbits = 2"))
    from harness.profiles import load_profile

    profile = load_profile(str(wired))
    assert console_port("/dev/ttyACM0", profile) == SerialPort("/dev/ttyACM0", 9600, 7, "E", 2)
    _, path = pty
    with SerialConsole(console_port(str(path), profile)):  # the settings reach the port the OS gives us
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            _, _, cflag, _, _, ospeed, _ = termios.tcgetattr(fd)
        finally:
            os.close(fd)
    # (a Linux pty keeps 8 bits without parity whatever is asked: speed and stop bits show what was set)
    assert (ospeed, bool(cflag & termios.CSTOPB)) == (termios.B9600, True)
    assert console_port("/dev/ttyACM0", profile, baudrate=115200).baudrate == 115200
    assert console_port("/dev/ttyACM0") == SerialPort("/dev/ttyACM0")


def test_a_resource_is_only_a_description() -> None:
    port = SerialPort("/dev/ttyUSB7", baudrate=9600, parity="E")
    assert port == SerialPort("/dev/ttyUSB7", baudrate=9600, parity="E") and hash(port)
    assert port.settings()["baudrate"] == 9600 and port.settings()["parity"] == "E"
    with pytest.raises(ValueError):
        SerialPort("/dev/ttyUSB7", baudrate=0)
    for build in DRIVERS.values():
        with pytest.raises(TypeError):
            build("/dev/ttyUSB7")
