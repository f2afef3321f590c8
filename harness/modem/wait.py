"""Waiting for an access code by text: the loop two-step sign-in flows call, with one deadline for all of it.

Each round lists the stored messages and takes the ones delivered straight
to us (+CMT), joined into whole messages, and looks for the code in the
newest one from the expected sender. A code is typed into a phone only when
a second, independent read gives the same code (line noise can cut a code
in two). Between rounds a +CMTI or +CMT wakes the wait early. A modem that
restarts (says RDY, +CFUN: 1, +CPIN: READY, ^SYSSTART...) or whose port goes
away and comes back is set up again, and the wait goes on to its deadline.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING

from harness.deadline import left
from harness.errors import DeviceUnavailable, HarnessTimeout
from harness.modem.at import ModemError, ModemGarbled, Sms
from harness.secrets import Secret
from harness.serial_log import mask as _mask_line

if TYPE_CHECKING:
    from harness.modem.modem import GsmModem

logger = logging.getLogger("harness.modem")


def mask(text: str) -> str:
    """A modem's text masked as its log is (codes, secrets, PDUs)."""
    return _mask_line(text, pdus=True)


def _forget(modem: GsmModem, sms: Sms, deadline: float) -> None:
    """Delete a message whose code was read; failing that is a warning, since the code is already in hand."""
    with modem._link.cond:
        for source in sms.sources:
            try:
                modem.delivered.remove(source)  # type: ignore[arg-type]
            except ValueError:
                pass
    for index in sms.stored:
        try:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HarnessTimeout(f"time to delete message {index}", "the clean-up budget spent", modem.timeout)
            modem.command(f"AT+CMGD={index}", timeout=remaining)
        except (ModemError, HarnessTimeout) as exc:
            note = f"could not delete message {index} after reading its code: {exc}"
            modem.log.write("!!", note)
            logger.warning("modem %s: %s", modem.url, mask(note))


def _confirmed(modem: GsmModem, sms: Sms, code: str, regex: re.Pattern[str], deadline: float) -> bool:
    """A second, independent read gives the same code.

    A stored message is read again by AT+CMGR (every part of it); a delivered one (+CMT) cannot be read
    again: in text mode it must have come clean (printable ASCII), a PDU must have decoded (its hex,
    lengths and fields all checked).
    """
    if not sms.stored:
        return sms.coding != "text" or all(" " <= ch <= "~" for ch in sms.body)
    try:
        budget = min(max(modem.timeout, 10), max(0.05, deadline - time.monotonic()))  # as for a listing
        return modem.inbox.reread(sms, regex, budget) == code
    except (HarnessTimeout, ModemError):
        return False


def _code(regex: re.Pattern[str], body: str) -> str | None:
    found = regex.search(body)
    return (found.group(1) if found.groups() else found.group(0)) if found else None


def wait_for_code(modem: GsmModem, sender: str | None, pattern: str, since: float | None,
                  timeout: float, poll: float) -> Secret:
    """The code in the newest matching message received after ``since``; see the module's docstring.

    ``timeout`` bounds the whole wait (cut to an enclosing ``harness.deadline.within``); deleting what
    was read takes at most the modem's own timeout more, and a delete that fails is a warning.
    """
    from harness.modem.modem import DEFAULT_SENDERS, ModemTimeout

    regex = re.compile(pattern)
    senders = (sender,) if sender else DEFAULT_SENDERS
    timeout = left(timeout) or 0.0
    deadline = time.monotonic() + timeout
    seen, delivered_count, problem = 0, 0, ""
    set_up = True
    while True:
        if modem._link.dead is not None or modem._link.restarts != modem.set_up_after or not set_up:
            why = "port went away" if modem._link.dead is not None else "restarted (it said so)"
            set_up = False
            try:
                modem.recover(deadline, why)
                set_up, problem = True, ""
            except (HarnessTimeout, ModemError, DeviceUnavailable) as exc:
                problem = f"; the modem {why} and was not set up again: {exc}"
        remaining = deadline - time.monotonic()
        with modem._link.cond:
            delivered = list(modem.delivered)
            urcs_before = modem._link.urc_count
        messages: list[Sms] = []
        if remaining > 0 and set_up:
            try:
                messages = modem.inbox.messages("ALL", min(max(modem.timeout, 10), remaining), delivered)
                problem = ""
            except (ModemTimeout, ModemError, DeviceUnavailable) as exc:
                if type(exc) not in (ModemTimeout, ModemGarbled, ModemError, DeviceUnavailable) \
                        and modem._link.restarts == modem.set_up_after:
                    raise  # +CME/+CMS ERROR: the modem said no (and not because it just restarted)
                problem = f"; last listing: {exc}"
        seen = sum(1 for m in messages if m.stored)
        delivered_count = len(messages) - seen
        matching: list[tuple[Sms, str]] = []
        for sms in messages:
            if sms.missing or not any(s.lower() in sms.sender.lower() for s in senders):
                continue
            if since is not None and sms.timestamp is not None and sms.timestamp.timestamp() < since - 2:
                continue
            code = _code(regex, sms.body)
            if code is not None:
                matching.append((sms, code))
        if matching:
            newest = max(matching, key=lambda m: (m[0].timestamp.timestamp() if m[0].timestamp else 0, m[0].index))
            if _confirmed(modem, newest[0], newest[1], regex, deadline):
                cleanup = time.monotonic() + modem.timeout  # all the deletes together, past the wait's deadline
                for sms, _ in matching:
                    _forget(modem, sms, cleanup)
                return Secret(newest[1])
            problem = "; a code was read but a second read did not confirm it (line noise?)"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HarnessTimeout(f"an SMS from {' or '.join(senders)} matching {pattern}",
                                 f"{seen} stored message(s) and {delivered_count} delivered, none matching"
                                 f"{problem}{modem.inbox.problems()}", timeout)
        link = modem._link
        with link.cond:  # a +CMTI or +CMT (or a restart) wakes us early; else poll the listing
            link.cond.wait_for(lambda: link.urc_count != urcs_before or link.dead is not None,
                               timeout=min(poll, remaining))
