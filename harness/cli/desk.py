"""The desk CLI: drive one handset by hand (screenshot, tap, swipe, text, key, shell, console, sms, power).

Every command takes ``--handset URI``, ``--device NAME`` (a handset of the
rack inventory given by ``--inventory FILE`` or ``$HARNESS_INVENTORY``) or
``--place NAME --coordinator HOST:PORT`` (a labgrid place), and
every one but ``console`` takes ``--timeout SECONDS``, an upper bound for the
whole command (connecting, retries and reading included).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable

from harness.cli.options import add_target_options, add_timeout_option, bounded, chosen_handset, open_chosen
from harness.errors import HarnessError
from harness.handset import KEYCODES
from harness.lab.chosen import ChosenHandset
from harness.modem.modem import DEFAULT_CODE_PATTERN
from harness.modem.options import add_modem_options, chosen_options
from harness.profiles import Profile

_ACCESS_CODE = re.compile(DEFAULT_CODE_PATTERN)  # what `harness sms` masks unless --show-codes


def add_desk_parsers(sub: Any) -> None:
    """Register the desk commands (one handset by hand) on the ``harness`` command's subparsers."""
    specs = {
        "screenshot": "save the handset's screen as PNG",
        "tap": "tap at device pixels X Y",
        "swipe": "swipe from X1 Y1 to X2 Y2",
        "text": "type text into the focused field",
        "key": f"press a key of the handset: {', '.join(KEYCODES)}",
        "shell": "run a shell command on the handset",
        "console": "interactive serial terminal on the handset's console; it stays across reboots (Ctrl-] quits)",
        "sms": "list the messages the modem holds",
        "power": "switch the handset's power: on, off or cycle",
    }
    parsers = {name: sub.add_parser(name, help=text, description=text) for name, text in specs.items()}
    for p in parsers.values():
        add_target_options(p)
    parsers["screenshot"].add_argument("-o", "--output", default=None, help="PNG path (default: screenshot-TIME.png)")
    parsers["tap"].add_argument("x", type=int)
    parsers["tap"].add_argument("y", type=int)
    for name in ("x1", "y1", "x2", "y2"):
        parsers["swipe"].add_argument(name, type=int)
    parsers["swipe"].add_argument("--ms", type=int, default=300, help="duration")
    parsers["text"].add_argument("text")
    parsers["key"].add_argument("name", choices=tuple(KEYCODES), metavar="KEY",
                                help="; ".join(f"{k} (Android keycode {v})" for k, v in KEYCODES.items()))
    parsers["shell"].add_argument("--max-output", type=int, default=16 * 1024 * 1024, metavar="BYTES",
                                  help="refuse more output than this (default 16 MiB)")
    parsers["shell"].add_argument("shell_command", nargs=argparse.REMAINDER, metavar="COMMAND")
    parsers["console"].add_argument("--port", metavar="URL", help="pyserial URL of the console (default: the inventory's)")
    parsers["console"].add_argument("--baudrate", type=int,
                                    help="line speed (default: the handset profile's [console], else 115200)")
    parsers["sms"].add_argument("--port", metavar="URL", help="pyserial URL of the modem (default: the inventory's)")
    parsers["sms"].add_argument("--show-codes", action="store_true", help="do not mask access codes")
    parsers["sms"].add_argument("--delete", action="store_true", help="delete what was listed")
    add_modem_options(parsers["sms"])
    parsers["power"].add_argument("action", choices=("on", "off", "cycle", "state"))
    parsers["power"].add_argument("--switch", metavar="SPEC", help="lcus:PORT#CHANNEL or uhubctl:HUB#PORT (default: the inventory's)")
    parsers["power"].add_argument("--off-seconds", type=float, default=3.0)
    parsers["power"].add_argument("--wait", type=float, metavar="SECONDS", default=None,
                                  help="after on or cycle, wait until the handset answers over its URI")
    for name, p in parsers.items():
        if name == "console":  # interactive: it runs until the user quits
            p.set_defaults(func=_cmd_console)
        else:
            add_timeout_option(p, name)
            p.set_defaults(func=bounded(globals()[f"_cmd_{name}"]))


def _with_handset(args: argparse.Namespace, fn: Any) -> int:
    args.stage("waiting for the handset's lease" if args.device else
               "waiting for the labgrid place" if args.place or os.environ.get("LG_PLACE") else "starting")
    with chosen_handset(args) as chosen:
        args.stage(f"connecting to {chosen.uri}")
        opened = open_chosen(chosen, one_shot=True)
        try:
            args.stage(f"running {args.command} on {chosen.uri}")
            return int(fn(opened.handset) or 0)
        finally:
            opened.close()


def output_image_path(text: str, option: str = "-o") -> tuple[Path, str]:
    """Check where an image will go before anything is taken: a known image type, a folder that exists
    and can be written. Returns the path and the Pillow format; HarnessError naming the option otherwise."""
    from PIL import Image

    path = Path(text)
    formats = {ext: fmt for ext, fmt in Image.registered_extensions().items() if fmt in Image.SAVE}
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(e for e in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".webp") if e in formats)
        raise HarnessError(f"{option} {text}: {'no file type' if not path.suffix else f'unknown image type {path.suffix!r}'}"
                           f" (use {known})")
    folder = path.parent
    if not folder.is_dir():
        raise HarnessError(f"{option} {text}: folder {folder} does not exist")
    if path.is_dir():
        raise HarnessError(f"{option} {text}: is a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise HarnessError(f"{option} {text}: folder {folder} is not writable")
    return path, fmt


def _cmd_screenshot(args: argparse.Namespace) -> int:
    from PIL import Image

    from harness.artifacts import new_file

    if args.output:
        path, fmt = output_image_path(args.output)
    else:
        path, fmt = Path(f"screenshot-{time.strftime('%Y%m%d-%H%M%S')}.png"), "PNG"
        output_image_path(str(path))

    def shot(handset: Any) -> None:
        image = handset.screenshot()
        where = path if args.output else new_file(path.parent, path.name)  # a default name never overwrites
        try:
            Image.fromarray(image[:, :, :3] if fmt in ("JPEG", "BMP") else image).save(where, format=fmt)
        except OSError as exc:
            raise HarnessError(f"{where}: cannot write the screenshot ({exc.strerror or exc})") from None
        print(f"{where} ({image.shape[1]}x{image.shape[0]})")
    return _with_handset(args, shot)


def _cmd_tap(args: argparse.Namespace) -> int:
    return _with_handset(args, lambda h: h.tap(args.x, args.y))


def _cmd_swipe(args: argparse.Namespace) -> int:
    return _with_handset(args, lambda h: h.swipe(args.x1, args.y1, args.x2, args.y2, args.ms))


def _cmd_text(args: argparse.Namespace) -> int:
    from harness.secrets import Secret

    typed = Secret(args.text)  # what is typed at a desk is often a password: never echoed in an error
    return _with_handset(args, lambda h: h.text(typed))


def _cmd_key(args: argparse.Namespace) -> int:
    return _with_handset(args, lambda h: h.key(args.name))


def _cmd_shell(args: argparse.Namespace) -> int:
    if not args.shell_command:
        raise HarnessError("shell: give a command, e.g. harness shell --device lumia-930-01 getprop")

    def run(handset: Any) -> int:
        result = handset.shell_result(" ".join(args.shell_command), max_output=args.max_output)
        sys.stdout.buffer.write(result.stdout)
        sys.stderr.buffer.write(result.stderr)
        return result.exit_code
    return _with_handset(args, run)


def _cmd_console(args: argparse.Namespace) -> int:
    with chosen_handset(args) as chosen:
        return _console(args, chosen.port("console", args.port), chosen.profile())


def _console(args: argparse.Namespace, url: str, profile: Profile | None = None) -> int:
    from harness.console import console_port
    from harness.console.terminal import run_terminal

    return run_terminal(console_port(url, profile, args.baudrate))


def _cmd_sms(args: argparse.Namespace) -> int:
    with chosen_handset(args) as chosen:
        return _sms(args, chosen.port("modem", args.port), chosen_options(args, chosen.entry))


def _sms(args: argparse.Namespace, url: str, options: dict[str, Any]) -> int:
    from harness.modem import GsmModem
    from harness.serial_port import SerialPort

    args.stage(f"talking to the modem at {url}")
    with GsmModem(SerialPort(url), **options) as modem:
        messages = modem.list_messages()
        for sms in messages:
            body = sms.body if args.show_codes else _ACCESS_CODE.sub(lambda m: "•" * len(m.group(0)), sms.body)
            when = sms.timestamp.isoformat() if sms.timestamp else "?"
            parts = f"[{sms.parts} parts{', missing ' + ','.join(map(str, sms.missing)) if sms.missing else ''}] " \
                if sms.parts > 1 else ""
            where = ",".join(map(str, sms.stored)) or "+CMT"
            print(f"{where:>5s} {sms.status:10s} {sms.sender:14s} {when}  {parts}{' '.join(body.splitlines())}")
            if args.delete:
                modem.delete(sms)  # every part of it
        if not messages:
            print("no messages")
    return 0


def _switch(args: argparse.Namespace, chosen: ChosenHandset) -> tuple[Any, int, str]:
    """The power switch of --switch, else the inventory's, opened; its channel and the channel's journal name."""
    from harness.lab.power_journal import channel_key
    from harness.power import PowerSwitchError, open_switch, parse_switch_spec

    if args.switch:
        try:
            kind, where, channel = parse_switch_spec(args.switch)
        except PowerSwitchError as exc:
            raise HarnessError(f"--switch {exc}") from None
    else:
        found = chosen.power_channel()
        if found is None:
            raise HarnessError("no power switch: give --switch lcus:PORT#CHANNEL (or use --device with an inventory)")
        kind, where, channel = found
    return open_switch(kind, where, channel), channel, channel_key(kind, where, channel)


def _cmd_power(args: argparse.Namespace) -> int:
    with chosen_handset(args) as chosen:
        return _power(args, chosen)


def _power(args: argparse.Namespace, chosen: ChosenHandset) -> int:
    args.stage(f"switching power {args.action}")
    from harness.lab import power_journal

    switch, channel, key = _switch(args, chosen)
    by = f"harness power {args.action} (pid {os.getpid()})"
    on_again = None if switch.acknowledges else (lambda: _on_again(args, chosen, by))

    def switched(on: bool) -> None:   # each action into the host's journal: the timelines of runs show it
        (switch.on if on else switch.off)(channel)
        power_journal.note(key, "on" if on else "off", by)
    try:
        if args.action == "on":
            switched(True)
        elif args.action == "off":
            switched(False)
        elif args.action == "cycle":
            switched(False)
            for left in range(int(args.off_seconds), 0, -1):
                print(f"\rpower off, on again in {left}s ", end="", file=sys.stderr, flush=True)
                time.sleep(1)
            time.sleep(args.off_seconds - int(args.off_seconds))
            switched(True)
            print("\rpower on again           ", file=sys.stderr)
        state = switch.state(channel)
        print(f"channel {channel}: {'on' if state else 'off' if state is False else 'unknown (the switch cannot tell)'}")
    finally:
        switch.close()
    if args.wait is not None and args.action in ("on", "cycle"):
        args.stage("waiting for the handset to answer after power on")
        _wait_until_answering(chosen, args.wait, on_again)
    return 0


#: Seconds after "on" that a switch which sends nothing back is sent "on" again while the handset stays silent;
#: the wait doubles each time (a phone that takes a minute to boot gets four, all harmless to a closed relay).
ON_AGAIN_AFTER = 5.0


def _on_again(args: argparse.Namespace, chosen: ChosenHandset, by: str) -> None:
    """"on" once more through a fresh connection to the switch; a failure is said, and the wait goes on. The
    command's --timeout still bounds it; its stage says what was under way if that runs out here."""
    from harness.lab import power_journal
    from harness.power import PowerSwitchError

    stage = args.stage.text
    args.stage("sending 'on' again to the power switch")
    try:
        switch, channel, key = _switch(args, chosen)
        try:
            switch.on(channel)
        finally:
            switch.close()
    except (PowerSwitchError, HarnessError) as exc:
        print(f"\rcould not send 'on' again: {exc}", file=sys.stderr)
        return
    finally:
        args.stage(stage)
    power_journal.note(key, "on", f"{by}, again: no answer yet")


def _wait_until_answering(chosen: ChosenHandset, seconds: float,
                          on_again: Callable[[], None] | None = None) -> None:
    """After power on: show how long the handset has been booting until it answers, or fail at the deadline.

    ``on_again`` (a switch that cannot confirm a command, as an LCUS board) is called while the handset stays
    silent, ON_AGAIN_AFTER seconds after power on and then at doubling waits: a frame the board missed costs
    seconds, not the whole deadline.
    """
    from harness.handsets import connect_when_up

    started = time.monotonic()
    due = ON_AGAIN_AFTER

    def tick(_: Exception) -> None:
        nonlocal due
        took = time.monotonic() - started
        if on_again is not None and took >= due:
            due *= 2
            print(f"\rno answer {took:.0f}s after power on: sending 'on' again (the switch cannot confirm it took)",
                  file=sys.stderr, flush=True)
            on_again()
        print(f"\rwaiting for {chosen.uri} to answer ... {took:4.0f}s ",
              end="", file=sys.stderr, flush=True)

    try:
        handset = connect_when_up(chosen.require_uri(), timeout=seconds, on_retry=tick)
    except HarnessError as exc:
        print(file=sys.stderr)
        raise HarnessError(f"{chosen.uri} did not answer within {seconds:g}s of power on ({exc}); "
                           f"watch it boot with `harness console`") from None
    handset.close()
    print(f"\r{chosen.uri} answers after {time.monotonic() - started:.1f}s          ", file=sys.stderr)
