"""A GSM/LTE modem over any pyserial URL, in SMS text mode: reads the access codes that arrive by text.

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
from harness.modem.at import ModemError, ModemGarbled, Sms, parse_cmgl, parse_cnum, raise_for_final
from harness.modem.link import MAX_ANSWER, Exchange, ModemLink
from harness.secrets import Secret
from harness.serial_log import SerialLog, mask

DEFAULT_SENDERS = ("69525", "Microsoft")
DEFAULT_CODE_PATTERN = r"\b(\d{4,8})\b"
#: How often set-up resends a command the modem answered with a bare ERROR (a command damaged on its way).
BARE_ERROR_TRIES = 3

logger = logging.getLogger("harness.modem")


class ModemTimeout(HarnessTimeout):
    """The modem did not answer a command in time."""


def _seen(lines: list[str]) -> str:
    return mask(repr(lines)) if lines else "nothing"


def _near(line: str, wanted: str) -> bool:
    """``line`` is ``wanted`` with at most one byte slipped in or lost (line noise)."""
    if abs(len(line) - len(wanted)) != 1:
        return False
    longer, shorter = (line, wanted) if len(line) > len(wanted) else (wanted, line)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


class GsmModem:
    """One modem; ``wait_for_access_code`` is what two-step flows call."""

    def __init__(self, url: str, baudrate: int = 115200, timeout: float = 5.0, log_path: str | Path | None = None,
                 init: bool = True, setup_timeout: float = 30.0, max_answer: int = MAX_ANSWER) -> None:
        self.url = url
        self.timeout = timeout
        self.max_answer = max_answer
        try:
            port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.1, rtscts=False, dsrdtr=False)
        except (serial.SerialException, ValueError) as exc:
            raise DeviceUnavailable(f"modem {url}: cannot open: {quote_seen(str(exc))}") from None
        self.log = SerialLog(log_path)
        self._lock = threading.Lock()
        self._link = ModemLink(port, self.log, f"modem {url}")
        self.port = port
        self.urcs = self._link.urcs
        self.delivered = self._link.delivered
        if init:
            try:
                self.initialise(setup_timeout)
            except BaseException:
                self.close()
                raise

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
        """The init that survives real modems: AT until OK, echo off, numeric errors, text mode, storage, +CMTI.

        ``boot_timeout`` bounds the whole set-up; a command whose answer comes back damaged is sent again.
        """
        boot_timeout = left(boot_timeout) or 0.0
        deadline = time.monotonic() + boot_timeout
        attempt = 1.0  # short at first (a modem still booting ignores AT), longer for a modem that answers slowly
        while True:
            try:
                self.command("AT", timeout=min(attempt, max(0.05, deadline - time.monotonic())))
                break
            except (ModemTimeout, ModemError):
                attempt = min(attempt * 2, self.timeout)
                if time.monotonic() >= deadline:
                    raise ModemTimeout(f"OK to AT from the modem at {self.url}", "no OK", boot_timeout) from None
        for command in ("ATE0", "AT+CMEE=1"):
            self._setup(command, deadline, boot_timeout)
        try:
            self._setup("AT+CPIN?", deadline, boot_timeout, wanted="+CPIN: READY",
                        accept=lambda lines: any(line.strip() == "+CPIN: READY" for line in lines))
        except ModemError as exc:
            raise ModemError(f"SIM not ready: {exc}") from None
        for command in ("AT+CMGF=1", 'AT+CSCS="GSM"', "AT+CSDH=0"):
            self._setup(command, deadline, boot_timeout)
        storages = " ".join(self._setup("AT+CPMS=?", deadline, boot_timeout, wanted="+CPMS: (...)"))
        if '"SM"' in storages:
            self._setup('AT+CPMS="SM","SM","SM"', deadline, boot_timeout, wanted="+CPMS: ...")
        modes = " ".join(self._setup("AT+CNMI=?", deadline, boot_timeout, wanted="+CNMI: (...)"))
        mode = "2,1,0,0,0" if re.search(r"\(\s*[0-9,-]*2", modes) else "1,1,0,0,0"
        self._setup(f"AT+CNMI={mode}", deadline, boot_timeout)

    def own_numbers(self) -> list[str]:
        """The SIM's own number(s) by AT+CNUM; empty when the SIM does not store it (many don't)."""
        try:
            return parse_cnum(self.command("AT+CNUM"))
        except ModemError:
            return []  # +CME ERROR: operation not supported, or plain ERROR: the number is unknown, not a fault

    # ------------------------------------------------------------------ messages
    def list_messages(self, status: str = "ALL", timeout: float | None = None) -> list[Sms]:
        """The stored messages with ``status`` (AT+CMGL in text mode)."""
        return parse_cmgl(self.command(f'AT+CMGL="{status}"', timeout=timeout or max(self.timeout, 10)))

    def delete(self, index: int) -> None:
        self.command(f"AT+CMGD={index}")

    def _forget(self, sms: Sms, deadline: float) -> None:
        """Delete a message whose code was read; failing that is a warning, since the code is already in hand."""
        if sms.index < 0:  # delivered by +CMT, never stored
            try:
                self.delivered.remove(sms)
            except ValueError:
                pass
            return
        try:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ModemTimeout(f"time to delete message {sms.index}", "the clean-up budget spent", self.timeout)
            self.command(f"AT+CMGD={sms.index}", timeout=remaining)
        except (ModemError, HarnessTimeout) as exc:
            note = f"could not delete message {sms.index} after reading its code: {exc}"
            self.log.write("!!", note)
            logger.warning("modem %s: %s", self.url, mask(note))

    def _confirmed(self, sms: Sms, code: str, regex: re.Pattern[str], deadline: float) -> bool:
        """A code is typed into a phone only when a second, independent read gives the same code.

        Line noise can cut a code in two (``344\\x070625`` matches as ``0625``); a stored message is
        read again by AT+CMGR, a delivered one (+CMT, which cannot be read again) must have come clean.
        """
        if sms.index < 0:
            return all(" " <= ch <= "~" for ch in sms.body)
        try:
            budget = min(max(self.timeout, 10), max(0.05, deadline - time.monotonic()))  # as for a listing
            lines = self.command(f"AT+CMGR={sms.index}", timeout=budget)
        except (ModemTimeout, ModemError):
            return False
        again = regex.search(lines[1]) if len(lines) > 1 and lines[0].startswith("+CMGR:") else None
        return again is not None and (again.group(1) if again.groups() else again.group(0)) == code

    def wait_for_access_code(self, sender: str | None = None, pattern: str = DEFAULT_CODE_PATTERN,
                             since: float | None = None, timeout: float = 60.0, poll: float = 1.0) -> Secret:
        """The code in the newest matching SMS received after ``since``; deletes the matching messages it read.

        Stored messages (AT+CMGL) and messages delivered straight to us (+CMT) both count. A listing that
        comes back damaged or late is tried again until ``timeout``, which bounds the whole wait (cut to an
        enclosing ``harness.deadline.within``); deleting what was read takes at most the modem's own timeout
        more, and a delete that fails is a warning: the code is in hand.
        """
        regex = re.compile(pattern)
        senders = (sender,) if sender else DEFAULT_SENDERS
        timeout = left(timeout) or 0.0
        deadline = time.monotonic() + timeout
        seen, problem = 0, ""
        while True:
            remaining = deadline - time.monotonic()
            stored: list[Sms] = []
            if remaining > 0:
                try:
                    stored = self.list_messages("ALL", timeout=min(max(self.timeout, 10), remaining))
                    problem = ""
                except (ModemTimeout, ModemError) as exc:
                    if type(exc) not in (ModemTimeout, ModemGarbled, ModemError):
                        raise  # +CME/+CMS ERROR: the modem said no
                    problem = f"; last listing: {exc}"
            with self._link.cond:
                delivered = list(self.delivered)
                urcs_before = self._link.urc_count
            seen = len(stored)
            matching: list[tuple[Sms, str]] = []
            newest: tuple[Sms, str] | None = None
            for sms in stored + delivered:
                if not any(s.lower() in sms.sender.lower() for s in senders):
                    continue
                if since is not None and sms.timestamp is not None and sms.timestamp.timestamp() < since - 2:
                    continue
                found = regex.search(sms.body)
                if found:
                    matching.append((sms, found.group(1) if found.groups() else found.group(0)))
            if matching:
                newest = max(matching, key=lambda m: (m[0].timestamp.timestamp() if m[0].timestamp else 0, m[0].index))
                if not self._confirmed(newest[0], newest[1], regex, deadline):
                    problem = "; a code was read but a second read did not confirm it (line noise?)"
                    newest = None
            if matching and newest is not None:
                code = Secret(newest[1])
                cleanup = time.monotonic() + self.timeout  # all the deletes together, past the wait's own deadline
                for sms, _ in matching:
                    self._forget(sms, cleanup)
                return code
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HarnessTimeout(f"an SMS from {' or '.join(senders)} matching {pattern}",
                                     f"{seen} stored message(s) and {len(delivered)} delivered, none matching"
                                     f"{problem}", timeout)
            with self._link.cond:  # a +CMTI or +CMT wakes us early; else poll CMGL
                self._link.cond.wait_for(lambda: self._link.urc_count != urcs_before or self._link.dead is not None,
                                         timeout=min(poll, remaining))
            if self._link.dead is not None:
                raise self._gone()

    def close(self) -> None:
        self._link.close()
        self.log.close()
