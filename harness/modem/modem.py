"""A GSM/LTE modem over any pyserial URL: reads the access codes that arrive by text.

Messages are read in PDU mode where the modem offers it (probed with
``AT+CMGF=?`` and by trying ``AT+CMGF=0``), else in text mode; multipart,
UCS2 and alphanumeric-sender messages are decoded and joined in
``harness.modem.inbox``.

A reader thread (``harness.modem.link``) owns the port: it hands command
answers to the waiting command, routes unsolicited result codes (+CMTI) and
messages delivered straight to us (+CMT) to their own queues, and writes
every line to a log that masks access codes. Bytes are decoded as latin-1,
so no byte can kill the reader.

Lines get damaged on real serial links. Set-up and the wait for a code
retry a command whose answer came back garbled or not at all, within the
deadline of the whole operation; a definite answer (+CME/+CMS ERROR) is
not retried.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Callable

import serial

from harness.deadline import left
from harness.errors import DeviceUnavailable, HarnessTimeout, quote_seen
from harness.modem.at import ModemError, ModemGarbled, ModemTimeout, Sms, parse_cnum, raise_for_final
from harness.modem.inbox import PART_TIMEOUT, Inbox
from harness.modem.quirks import Profile
from harness.modem.setup import initialise, recognise_every_vendor
from harness.modem.link import MAX_ANSWER, Exchange, ModemLink
from harness.secrets import Secret
from harness.serial_log import SerialLog
from harness.serial_port import SerialPort
from harness.serial_reader import PortDriver, open_port_by
from harness.serial_log import mask as _mask_line

DEFAULT_SENDERS = ("69525", "Microsoft")
DEFAULT_CODE_PATTERN = r"\b(\d{4,8})\b"
#: How often set-up resends a command the modem answered with a bare ERROR (a command damaged on its way).
BARE_ERROR_TRIES = 3

logger = logging.getLogger("harness.modem")


def mask(text: str) -> str:
    """A modem's text masked as its log is (codes, secrets, PDUs)."""
    return _mask_line(text, pdus=True)


def _seen(lines: list[str]) -> str:
    return mask(repr(lines)) if lines else "nothing"


def _near(line: str, wanted: str) -> bool:
    """``line`` is ``wanted`` with at most one byte slipped in or lost (line noise)."""
    if abs(len(line) - len(wanted)) != 1:
        return False
    longer, shorter = (line, wanted) if len(line) > len(wanted) else (wanted, line)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


class GsmModem(PortDriver):
    """One modem; ``wait_for_access_code`` is what two-step flows call.

    Built from a ``SerialPort`` without touching it; ``open()`` (or ``with``) opens the port, starts the
    reader and sets the modem up; ``close()`` ends both and may be called again.
    """

    what = "modem"

    def __init__(self, port: SerialPort, timeout: float = 5.0, log_path: str | Path | None = None,
                 init: bool = True, setup_timeout: float = 30.0, max_answer: int = MAX_ANSWER,
                 mode: str | None = None, part_timeout: float = PART_TIMEOUT, vendor: str | None = None,
                 delivery: str = "stored") -> None:
        """``mode`` "pdu" or "text" skips the probe; ``part_timeout`` bounds the wait for a multipart message's
        parts; ``vendor`` (the inventory's) skips identification; ``delivery`` "stored" (+CMTI) or "direct" (+CMT);
        ``init`` False opens the port without setting the modem up; ``setup_timeout`` bounds the set-up.
        """
        super().__init__(port)
        if mode not in (None, "pdu", "text"):
            raise ValueError(f"modem mode {mode!r}: expected pdu or text")
        if delivery not in ("stored", "direct"):
            raise ValueError(f"modem delivery {delivery!r}: expected stored or direct")
        self.vendor = vendor
        self.delivery = delivery
        self.profile: Profile | None = None
        self.set_up_after = 0
        self.wanted_mode = mode
        self.mode = mode or "text"
        self.timeout = timeout
        self.max_answer = max_answer
        self.log_path = log_path
        self.init = init
        self.setup_timeout = setup_timeout
        self.log = SerialLog(None)
        self._link: ModemLink | None = None
        self._lock = threading.Lock()
        self.inbox = Inbox(self, part_timeout)

    def _start(self) -> None:
        self.log = SerialLog(self.log_path, pdus=True)
        self._attach(self._open_port())
        if self.init:
            self.initialise(self.setup_timeout)

    def _stop(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        self.log.close()

    def _require_link(self) -> ModemLink:
        if self._link is None:
            raise DeviceUnavailable(f"modem {self.url}: not open (call open() or use the modem in a with block)")
        return self._link

    def _attach(self, port: serial.SerialBase) -> None:
        """A reader thread on ``port``; messages delivered to the last one are kept."""
        old = self._link
        self._link = ModemLink(port, self.log, f"modem {self.url}")
        recognise_every_vendor(self._link)
        if old is not None:
            self._link.delivered.extend(old.delivered)
        self.port = port
        self.urcs = self._link.urcs
        self.delivered = self._link.delivered

    def recover(self, deadline: float, why: str) -> None:
        """After a restart (``why``): reopen the port if it went away, then the whole set-up, by ``deadline``."""
        self.log.write("!!", f"modem {why}; setting it up again")
        logger.info("modem %s: %s; setting it up again", self.url, why)
        if self._link.dead is not None:
            self._link.close()
            port = open_port_by(self.resource, self.what, deadline)
            assert port is not None  # no stop event: a port or DeviceUnavailable
            self._attach(port)
        self.initialise(max(0.05, deadline - time.monotonic()))

    # ------------------------------------------------------------------ commands
    def _gone(self) -> DeviceUnavailable:
        return DeviceUnavailable(f"modem {self.url}: port gone ({quote_seen(str(self._link.dead))})")

    def _wait(self, ex: Exchange, deadline: float) -> None:
        with self._link.cond:
            while not ex.done and self._link.dead is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._link.cond.wait(remaining)

    def command(self, command: str, timeout: float | None = None) -> list[str]:
        """Send one AT command; its answer lines (without the final OK) or a typed error.

        ``timeout`` (default: the modem's) is cut to an enclosing ``harness.deadline.within``.
        """
        self._require_link()
        timeout = left(timeout or self.timeout) or 0.0
        deadline = time.monotonic() + timeout
        with self._lock:
            previous = self._link.exchange
            if previous is not None and not previous.done:
                # A late answer to a command that timed out would pass for this one's: give it part of our time.
                self._wait(previous, time.monotonic() + timeout / 2)
            if self._link.dead is not None:
                raise self._gone()
            try:
                ex = self._link.start(command, self.max_answer)
            except (serial.SerialException, OSError) as exc:
                raise DeviceUnavailable(f"modem {self.url}: write failed ({quote_seen(str(exc))})") from None
            self._wait(ex, deadline)
        if ex.garbled is not None:
            raise ModemGarbled(f"{command}: answer damaged on the line; expected a final result, saw "
                               f"{quote_seen(mask(repr(ex.garbled)), 60)} after {quote_seen(_seen(ex.shown()), 160)}")
        if ex.final is None:
            if self._link.dead is not None:
                raise self._gone()
            seen = _seen(ex.shown())
            if self._link.unfinished_size:
                seen = (f"{seen} then {self._link.unfinished_size} bytes of a line without end starting "
                        f"{mask(repr(self._link.unfinished[:80]))}")
            raise ModemTimeout(f"a final result for {command}", seen, timeout)
        if ex.left_out:
            raise ModemError(f"{command}: expected an answer of at most {self.max_answer} bytes, saw "
                             f"{ex.size + ex.left_out} bytes starting {quote_seen(_seen(ex.shown()), 160)}")
        raise_for_final(ex.final, command)
        return ex.lines

    def _setup(self, command: str, deadline: float, total: float,
               accept: Callable[[list[str]], bool] | None = None, wanted: str = "OK") -> list[str]:
        """``command`` until it is answered cleanly, resent when the answer is damaged, lost or a bare ERROR."""
        last, bare_errors = "nothing", 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ModemTimeout(f"{wanted} to {command} from the modem at {self.url}", last, total)
            try:
                lines = self.command(command, timeout=min(self.timeout, remaining))
            except (ModemTimeout, ModemGarbled) as exc:
                last = str(exc)
                continue
            except ModemError as exc:
                if type(exc) is not ModemError or bare_errors + 1 >= BARE_ERROR_TRIES:
                    raise  # +CME/+CMS ERROR is a definite answer; so is ERROR, said again and again
                bare_errors += 1
                last = str(exc)
                continue
            if all(line.isprintable() for line in lines) and (accept is None or accept(lines)):
                return lines
            last = _seen(lines)
            if all(line.isprintable() for line in lines) and not any(_near(line, wanted) for line in lines):
                raise ModemError(f"{command}: expected {wanted}, saw {quote_seen(last, 200)}")

    def initialise(self, boot_timeout: float = 30.0) -> None:
        """The set-up that survives real modems (``harness.modem.setup``); ``boot_timeout`` bounds all of it."""
        initialise(self, boot_timeout)
        self.set_up_after = self._link.restarts  # a restart announced later means the set-up is lost

    def _choose_mode(self, deadline: float, total: float) -> str:
        """PDU mode where the modem has it (in its +CMGF=? list, or AT+CMGF=0 accepted, and AT+CMGL=? answered
        in it), else text mode."""
        if self.wanted_mode != "text":
            try:
                offered = " ".join(self.command("AT+CMGF=?", timeout=min(self.timeout, max(0.05, deadline - time.monotonic()))))
            except (ModemError, HarnessTimeout):
                offered = ""  # not every modem lists its modes: trying PDU mode says as much
            listed = re.search(r"\(([0-9,\s-]*)\)", offered)
            if not listed or re.search(r"(?<![0-9])0(?![0-9])", listed.group(1)):
                try:
                    self._setup("AT+CMGF=0", deadline, total)
                    # Accepting the mode is not reading in it: its listing's test command must answer too.
                    self._setup("AT+CMGL=?", deadline, total, wanted="+CMGL: (...)")
                    return "pdu"
                except ModemError as exc:
                    if self.wanted_mode == "pdu":
                        raise ModemError(f"PDU mode asked for, but the modem refused it: {exc}") from None
            elif self.wanted_mode == "pdu":
                raise ModemError(f"PDU mode asked for, but the modem offers only {quote_seen(offered, 80)}")
            self.log.write("--", "PDU mode not available; reading messages in text mode")
        self._setup("AT+CMGF=1", deadline, total)
        return "text"

    def own_numbers(self) -> list[str]:
        """The SIM's own number(s) by AT+CNUM; empty when the SIM does not store it (many don't)."""
        try:
            return parse_cnum(self.command("AT+CNUM"))
        except ModemError:
            return []  # +CME ERROR: operation not supported, or plain ERROR: the number is unknown, not a fault

    # ------------------------------------------------------------------ messages
    def list_messages(self, status: str = "ALL", timeout: float | None = None) -> list[Sms]:
        """The stored messages with ``status``, multipart ones joined (AT+CMGL in the modem's mode)."""
        return self.inbox.messages(status, timeout)

    def delete(self, index: int | Sms) -> None:
        """Delete one stored message; given an ``Sms``, every part of it."""
        for i in (index.stored if isinstance(index, Sms) else (index,)):
            self.command(f"AT+CMGD={i}")

    def wait_for_access_code(self, sender: str | None = None, pattern: str = DEFAULT_CODE_PATTERN,
                             since: float | None = None, timeout: float = 60.0, poll: float = 1.0) -> Secret:
        """The code in the newest matching SMS received after ``since``; deletes the messages it read.

        See ``harness.modem.wait.wait_for_code``: stored and delivered messages count, multipart ones
        once whole; ``timeout`` bounds the whole wait, a modem restart in it included.
        """
        from harness.modem.wait import wait_for_code

        self._require_link()
        return wait_for_code(self, sender, pattern, since, timeout, poll)

