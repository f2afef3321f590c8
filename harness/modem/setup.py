"""Setting a modem up as its vendor needs: who it is, which mode, which storage, how new messages are told.

Standard set-up first (27.007/27.005, V.250), then the vendor's own
commands from its profile (``harness.modem.quirks``). The vendor's
unsolicited lines, error words and restart lines of every known profile are
recognised from the first command on, so a modem taken for another vendor
(or not yet identified) cannot mix its reports into an answer.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from harness.deadline import left
from harness.errors import HarnessTimeout, quote_seen
from harness.modem.at import ModemError, ModemTimeout, split_fields
from harness.modem.quirks import Profile, by_name, identify, profiles

#: Between two ATs a modem refused at once: a booting modem gets a few a second, not as many as it can answer.
AT_RETRY_PAUSE = 0.25

if TYPE_CHECKING:
    from harness.modem.modem import GsmModem


def recognise_every_vendor(link: object) -> None:
    """Make the link file every known vendor's reports as unsolicited, its error words as final results."""
    known = profiles().values()
    link.extra_urcs = tuple(sorted({u for p in known for u in p.urcs}))  # type: ignore[attr-defined]
    link.extra_errors = tuple(sorted({e for p in known for e in p.errors}))  # type: ignore[attr-defined]
    link.restart_lines = tuple(sorted({r for p in known for r in p.restart}))  # type: ignore[attr-defined]


def _ask(modem: GsmModem, command: str, deadline: float) -> list[str]:
    try:
        return modem.command(command, timeout=min(modem.timeout, max(0.05, deadline - time.monotonic())))
    except (ModemError, HarnessTimeout):
        return []


def choose_profile(modem: GsmModem, deadline: float) -> Profile:
    """The inventory's vendor if given, else the one AT+CGMI (or ATI) names, else generic with a log note."""
    if modem.vendor:
        return by_name(modem.vendor)
    answers = []
    for command in ("AT+CGMI", "ATI"):
        lines = _ask(modem, command, deadline)
        answers.append(f"{command} -> {' | '.join(lines) or 'nothing'}")
        found = identify(" ".join(lines))
        if found is not None:
            modem.log.write("--", f"modem profile {found.name} (from {command})")
            return found
    modem.log.write("--", f"unknown modem, generic profile; it answered {quote_seen('; '.join(answers), 200)}")
    return by_name("generic")


def _lists(answer: str) -> list[list[str]]:
    """The parenthesised lists of a test command's answer: ``("SM","ME"),("SM")`` -> [[SM, ME], [SM]]."""
    return [split_fields(group) for group in re.findall(r"\(([^()]*)\)", answer)]


def storage_command(answer: str, profile: Profile, receiving: str | None = None) -> str | None:
    """AT+CPMS setting all three memories (read/delete, write, receive) to one storage.

    The one the modem receives into already (``receiving``, from AT+CPMS?) comes first: a message that
    arrived between a restart and this set-up is there (Quectel and SIMCom power up receiving into ME),
    then the vendor's preference.
    """
    memories = _lists(answer)[:3]
    if not memories:
        return None
    order = ((receiving,) if receiving else ()) + profile.storages
    chosen = []
    for offered in memories:
        common = [s for s in order if all(s in m for m in memories)]
        pick = common[0] if common else next((s for s in order if s in offered), offered[0])
        chosen.append(pick)
    return "AT+CPMS=" + ",".join(f'"{s}"' for s in chosen)


def _offers(values: list[str], wanted: int) -> bool:
    for item in values:
        low, _, high = item.partition("-")
        if low.strip().isdigit() and (high.strip().isdigit() and int(low) <= wanted <= int(high) or int(low) == wanted):
            return True
    return False


def cnmi_command(answer: str, profile: Profile, delivery: str) -> str:
    """AT+CNMI: indications sent at once (mode 2, else 1); messages stored with +CMTI or routed with +CMT."""
    ranges = _lists(answer)
    mode = 2 if not ranges or _offers(ranges[0], 2) else 1
    mt = 2 if delivery == "direct" else 1
    count = min(profile.cnmi_params, len(ranges) or profile.cnmi_params)
    return "AT+CNMI=" + ",".join(str(v) for v in [mode, mt, 0, 0, 0][:max(count, 2)])


def initialise(modem: GsmModem, boot_timeout: float) -> None:
    """AT until OK, echo off, numeric errors, SIM ready, the vendor, the mode, storage, indications."""
    boot_timeout = left(boot_timeout) or 0.0
    deadline = time.monotonic() + boot_timeout
    attempt = 1.0  # short at first (a modem still booting ignores AT), longer for a modem that answers slowly
    while True:
        try:
            modem.command("AT", timeout=min(attempt, max(0.05, deadline - time.monotonic())))
            break
        except (HarnessTimeout, ModemError) as exc:
            attempt = min(attempt * 2, modem.timeout)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = "no answer" if isinstance(exc, HarnessTimeout) else quote_seen(str(exc), 120)
                raise ModemTimeout(f"OK to AT from the modem at {modem.url}", seen, boot_timeout) from None
            if isinstance(exc, ModemError):  # an answer at once (ERROR while it boots): pace the next AT
                time.sleep(min(AT_RETRY_PAUSE, remaining))
    for command in ("ATE0", "AT+CMEE=1"):
        modem._setup(command, deadline, boot_timeout)
    try:
        modem._setup("AT+CPIN?", deadline, boot_timeout, wanted="+CPIN: READY",
                     accept=lambda lines: any(line.strip() == "+CPIN: READY" for line in lines))
    except ModemError as exc:
        raise ModemError(f"SIM not ready: {exc}") from None
    if modem.profile is None or modem.vendor:
        modem.profile = choose_profile(modem, deadline)
    for command in modem.profile.setup:
        try:
            modem._setup(command, deadline, boot_timeout)
        except ModemError as exc:
            modem.log.write("!!", f"{modem.profile.name} set-up {command} refused: {exc}")
    modem.mode = modem._choose_mode(deadline, boot_timeout)
    if modem.mode == "text":
        modem._setup('AT+CSCS="GSM"', deadline, boot_timeout)
        try:  # <fo> and <dcs> in the headers say when the data is hex (UCS2, 8-bit, a multipart message's parts)
            modem._setup("AT+CSDH=1", deadline, boot_timeout)
        except ModemError as exc:
            modem.log.write("!!", f"AT+CSDH=1 refused ({exc}): text-mode messages are read as they stand")
    current = re.findall(r'"([^"]+)"', " ".join(_ask(modem, "AT+CPMS?", deadline)))
    storages = " ".join(modem._setup("AT+CPMS=?", deadline, boot_timeout, wanted="+CPMS: (...)"))
    command = storage_command(storages, modem.profile, current[2] if len(current) >= 3 else None)
    if command:
        modem._setup(command, deadline, boot_timeout, wanted="+CPMS: ...")
    modes = " ".join(modem._setup("AT+CNMI=?", deadline, boot_timeout, wanted="+CNMI: (...)"))
    modem._setup(cnmi_command(modes, modem.profile, modem.delivery), deadline, boot_timeout)
