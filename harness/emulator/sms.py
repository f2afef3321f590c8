"""The emulated mobile network that carries text messages to emulated modems.

The account service sends access codes here; every message is kept in the
outbox (readable through the control socket), and a modem whose SIM holds
the destination number receives it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable


@dataclass(frozen=True)
class TextMessage:
    """One SMS as the network carries it."""

    to: str
    sender: str
    body: str
    sent_at: float = field(default_factory=time.time)


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

    def register(self, number: str, receiver: Receiver) -> None:
        """Deliver messages for ``number`` to ``receiver`` (a modem's SIM)."""
        with self._lock:
            self._receivers[normalise_number(number)] = receiver

    def unregister(self, number: str) -> None:
        with self._lock:
            self._receivers.pop(normalise_number(number), None)

    def send(self, to: str, sender: str, body: str) -> bool:
        """Send a message; True when a registered receiver took it."""
        message = TextMessage(to=to, sender=sender, body=body)
        with self._lock:
            self.outbox.append(message)
            receiver = self._receivers.get(normalise_number(to))
        if receiver is None:
            return False
        receiver(message)
        return True

    def outbox_dicts(self) -> list[dict[str, object]]:
        with self._lock:
            return [asdict(m) for m in self.outbox]
