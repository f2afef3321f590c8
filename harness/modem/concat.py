"""Joining the parts of a concatenated SMS (3GPP TS 23.040 9.2.3.24.1, .8) into the message a person reads.

A text longer than one SMS (153 GSM 7-bit characters, 67 UCS2) arrives as
parts that share a reference and the sender; they may come out of order,
twice, or not at all. Parts are grouped by sender, reference size,
reference and part count; the payloads are joined before they are decoded,
so a UCS2 surrogate pair or a GSM escape split between two parts survives.
A group still missing parts is held back until ``part_timeout`` after its
first part was seen; past that it is given with ``missing`` set (shown by
``harness sms``, never searched for a code: a code cut at the gap would be
a wrong code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from harness.modem.at import Sms
from harness.modem.pdu import Deliver, payload_text

#: Groups of parts remembered for their deadline; older ones are dropped first.
MAX_GROUPS = 256


@dataclass(frozen=True, eq=False)
class Part:
    """One decoded PDU and where it came from: a storage index, or the +CMT delivery that carried it."""

    deliver: Deliver
    index: int = -1
    status: str = "REC UNREAD"
    source: object = None


def _single(part: Part) -> Sms:
    d = part.deliver
    return Sms(part.index, part.status, str(d.sender), d.timestamp, d.text,
               indexes=(part.index,) if part.index >= 0 else (),
               sources=(part.source,) if part.source is not None else (), coding=d.coding.alphabet)


def _joined(parts: list[Part], total: int) -> Sms:
    by_seq: dict[int, Part] = {}
    for part in parts:
        by_seq.setdefault(part.deliver.concat.sequence, part)  # type: ignore[union-attr]  # a duplicate part: the first
    first = by_seq[min(by_seq)]
    alphabet = first.deliver.coding.alphabet
    pieces: list[str] = []
    run = b""
    for seq in range(1, total + 1):
        part = by_seq.get(seq)
        if part is None:
            pieces.append(payload_text(alphabet, run) + f"[part {seq} of {total} missing]")
            run = b""
        elif part.deliver.coding.alphabet != alphabet:  # parts in different codings: each decoded on its own
            pieces.append(payload_text(alphabet, run))
            alphabet, run = part.deliver.coding.alphabet, part.deliver.payload
        else:
            run += part.deliver.payload
    pieces.append(payload_text(alphabet, run))
    newest: datetime | None = max((p.deliver.timestamp for p in parts if p.deliver.timestamp), default=None)
    status = "REC UNREAD" if any(p.status == "REC UNREAD" for p in parts) else parts[0].status
    stored = tuple(sorted({p.index for p in parts if p.index >= 0}))
    return Sms(stored[0] if stored else -1, status, str(first.deliver.sender), newest, "".join(pieces),
               indexes=stored, sources=tuple(p.source for p in parts if p.source is not None), parts=total,
               missing=tuple(seq for seq in range(1, total + 1) if seq not in by_seq),
               coding=first.deliver.coding.alphabet)


def assemble(parts: list[Part], first_seen: dict[tuple, float], now: float,
             part_timeout: float) -> tuple[list[Sms], int]:
    """Every whole message in ``parts``, plus the groups whose missing parts are past their deadline;
    and how many groups still wait for a part within their deadline.

    ``first_seen`` (group key -> monotonic time its first part was seen) is the caller's memory between
    calls; groups no longer present are forgotten, so it holds at most what the modem holds.
    """
    out: list[Sms] = []
    pending = 0
    groups: dict[tuple, list[Part]] = {}
    for part in parts:
        concat = part.deliver.concat
        if concat is None or concat.total == 1:
            out.append(_single(part))
            continue
        key = (str(part.deliver.sender), concat.ref_bits, concat.reference, concat.total)
        groups.setdefault(key, []).append(part)
    for key in list(first_seen):
        if key not in groups:
            del first_seen[key]
    for key, members in groups.items():
        seen_at = first_seen.setdefault(key, now)
        complete = {m.deliver.concat.sequence for m in members} == set(range(1, key[3] + 1))  # type: ignore[union-attr]
        if complete or now - seen_at >= part_timeout:
            out.append(_joined(members, key[3]))
        else:
            pending += 1
    while len(first_seen) > MAX_GROUPS:
        del first_seen[min(first_seen, key=first_seen.__getitem__)]
    return out, pending

