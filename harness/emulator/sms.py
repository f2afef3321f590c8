"""The emulated mobile network that carries text messages to emulated modems.

The account service sends access codes here; every message is kept in the
outbox (readable through the control socket), and a modem whose SIM holds
the destination number receives it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from harness.emulator.sms_pdu import ENCODINGS, encode_address


@dataclass(frozen=True)
class TextMessage:
    """One SMS as the network carries it."""

    to: str
    sender: str
    body: str
    sent_at: float = field(default_factory=time.time)
    #: "auto" (GSM 7-bit when every character has a septet, else UCS2), "gsm7", "ucs2" or "8bit".
    encoding: str = "auto"
    #: The concatenation reference of a message in parts (0: the receiving modem's network picks one).
    reference: int = 0
    #: A 16-bit concatenation reference instead of an 8-bit one.
    ref16: bool = False
    #: The service centre's time zone in quarter hours (TP-SCTS).
    tz_quarters: int = 0
    #: The message class of the data coding scheme (0-3), or None for none.
    message_class: int | None = None


Receiver = Callable[[TextMessage], None]


def normalise_number(number: str) -> str:
    """Compare numbers without spaces, dashes or brackets."""
    return "".join(ch for ch in number if ch.isdigit() or ch == "+")


class SmsNetwork:
    """Routes messages to the receivers registered for a number."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._receivers: dict[str, Receiver] = {}
        self.outbox: list[TextMessage] = []
        #: Seconds between a message's sending and its delivery (a real network takes a few; 0: at once).
        self.delay = 0.0

    def register(self, number: str, receiver: Receiver) -> None:
        """Deliver messages for ``number`` to ``receiver`` (a modem's SIM)."""
        with self._lock:
            self._receivers[normalise_number(number)] = receiver

    def unregister(self, number: str) -> None:
        with self._lock:
            self._receivers.pop(normalise_number(number), None)

    def send(self, to: str, sender: str, body: str, **options: Any) -> bool:
        """Send a message (``options``: TextMessage's encoding and part fields); True when a receiver took it."""
        if options.get("encoding", "auto") not in ENCODINGS:
            raise ValueError(f"encoding {options['encoding']!r}: expected one of {', '.join(ENCODINGS)}")
        encode_address(sender)  # a sender no network could carry is refused here, not in the modem
        message = TextMessage(to=to, sender=sender, body=body, **options)
        with self._lock:
            self.outbox.append(message)
            receiver = self._receivers.get(normalise_number(to))
        if receiver is None:
            return False
        if self.delay > 0:
            timer = threading.Timer(self.delay, receiver, (message,))
            timer.daemon = True
            timer.start()
        else:
            receiver(message)
        return True

    def outbox_dicts(self) -> list[dict[str, object]]:
        with self._lock:
            return [asdict(m) for m in self.outbox]
