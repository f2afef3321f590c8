"""``harness emulate``: run an emulated handset (or a rack of them) in the foreground."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from harness.errors import HarnessError
from harness.profiles import ACCENTS, profile_names


def add_emulate_parser(sub: Any) -> None:
    """Register ``harness emulate`` (one handset, or ``--rack N`` of them) on the subparsers."""
    p = sub.add_parser("emulate", help="run an emulated Windows Phone 8.1 handset in the foreground",
                       description="Start an emulated handset and print one JSON line with its endpoints.")
    p.add_argument("--profile", default="lumia-930", help=f"device profile name or TOML path ({', '.join(profile_names())})")
    p.add_argument("--theme", choices=("dark", "light"), help="theme (default: the profile's)")
    p.add_argument("--accent", choices=sorted(ACCENTS), help="accent colour (default: the profile's)")
    p.add_argument("--os-version", choices=("8.0", "8.1"), help="OS version (default: the profile's)")
    p.add_argument("--accounts", metavar="FILE", help="TOML list of [[account]] tables (default: the demo accounts)")
    p.add_argument("--animation-ms", type=int, default=250, help="screen transition time (0: none)")
    p.add_argument("--toasts", action="store_true", help="show transient toasts at random moments")
    p.add_argument("--toast-seed", type=int, help="seed for toast timing and text")
    p.add_argument("--toast-interval", type=float, default=6.0, help="mean seconds between toasts")
    p.add_argument("--boot-time", type=float, default=1.5, help="seconds a (re)boot takes")
    p.add_argument("--signin-delay", type=float, default=0.8, help="seconds the 'signing in' screen shows")
    p.add_argument("--screen", help="start on this screen (see --list-screens)")
    p.add_argument("--font", type=_font_file, metavar="PATH",
                   help="draw every text with this TrueType file (layout, colours and sizes stay; default: the bundled font)")
    p.add_argument("--clock", type=_clock, metavar="HH:MM",
                   help="show this time in the status bar (default: the host's clock): screenshots alike at any hour")
    p.add_argument("--serial", help="serial number (default: made from the profile's pattern)")
    p.add_argument("--adb-key", action="append", default=[], metavar="FILE",
                   help="also trust the public key in this adbkey.pub (repeatable); your own keys "
                        "($HARNESS_ADB_KEY.pub, ~/.android/adbkey.pub) are trusted by default")
    p.add_argument("--no-user-keys", action="store_true",
                   help="trust only --adb-key keys, not the keys of the user who runs the emulator")
    p.add_argument("--adb-insecure", action="store_true", help="trust any ADB key")
    p.add_argument("--adb-maxdata", type=_adb_maxdata, default=256 * 1024, metavar="BYTES",
                   help="the largest ADB payload the handset accepts and sends, announced as the smaller of it "
                        "and the host's (default 262144, as Android 7 and 8; 4096 as older devices, up to 1048576)")
    # Set by the harness when it starts the emulator as its child (harness.emulator.lifeline).
    p.add_argument("--parent-fd", type=int, help=argparse.SUPPRESS)
    p.add_argument("--parent-death-signal", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--runtime-dir", help=argparse.SUPPRESS)
    p.add_argument("--modem-number", metavar="NUMBER[,NUMBER...]",
                   help="the emulated modem's SIM number (default: the first two-step account's phone on file); with "
                        "--rack, one per handset in order, all different, as real SIMs are (codes reach a handset "
                        "for the accounts whose phone on file is its number)")
    p.add_argument("--modem-vendor", default="generic", choices=("generic", "quectel", "huawei", "simcom", "cinterion"),
                   help="whose modem the emulated one behaves like (identification, storages, URC port, error words)")
    p.add_argument("--modem-delivery", default="vendor", choices=("vendor", "cmti", "cmt"),
                   help="how the emulated modem hands over new messages until a client sets +CNMI: stored and "
                        "announced by +CMTI, or routed straight by +CMT (default: the vendor's power-up +CNMI)")
    p.add_argument("--modem-reenumerate", action="store_true",
                   help="every modem restart takes its port away and brings it back, as a USB modem's does "
                        "(the endpoint is a stable name, like /dev/serial/by-id)")
    p.add_argument("--robot", action="store_true",
                   help="add an emulated GRBL 1.1 tapping robot on a pty (the 'robot' endpoint)")
    p.add_argument("--robot-time-scale", type=_positive, default=1.0, metavar="X",
                   help="the emulated robot's clock runs X times real time (moves and dwells take 1/X as long)")
    p.add_argument("--camera", action="store_true",
                   help="add an emulated camera over the phone on the robot's bed: MJPEG over HTTP on 127.0.0.1 "
                        "(the 'camera' endpoint, http://127.0.0.1:PORT/stream.mjpg)")
    p.add_argument("--camera-size", choices=("1280x720", "1920x1080"), default="1280x720",
                   help="the emulated camera's frame size")
    p.add_argument("--camera-fps", type=_positive, default=20.0, metavar="FPS",
                   help="the emulated camera's frame rate (while anyone watches)")
    p.add_argument("--bench-seed", type=int, metavar="N",
                   help="with --robot/--camera: the seed of the phone's placement on the robot's bed (offset, "
                        "rotation, glass height; random when not given; told only through the control socket)")
    p.add_argument("--mail-dir", help="Maildir root where e-mailed access codes are delivered")
    p.add_argument("--mail-to", type=_mail_to, metavar="lmtp://HOST:PORT",
                   help="hand e-mail (access codes) to this mail server over LMTP instead of a Maildir")
    p.add_argument("--serial-index", type=int, default=0, help="make the Nth serial number of the profile's pattern")
    p.add_argument("--list-screens", action="store_true", help="print the screen names and exit")
    p.add_argument("--rack", type=_at_least_one, metavar="N", help="start N emulated handsets with a relay board (an emulated rack)")
    p.add_argument("--rack-profiles", default="lumia-520,lumia-1320,lumia-930",
                   help="comma-separated profiles the rack's handsets cycle through")
    p.add_argument("--inventory-out", metavar="FILE", help="with --rack: write the rack inventory (TOML) here")
    p.set_defaults(func=_cmd_emulate)


def _adb_maxdata(text: str) -> int:
    """An argparse type: an ADB maxdata from 4096 (adb's smallest) to 1 MiB (its largest)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of bytes, got {text!r}") from None
    if not 4096 <= value <= 1024 * 1024:
        raise argparse.ArgumentTypeError(f"must be 4096 to 1048576, got {value}")
    return value


def _positive(text: str) -> float:
    """An argparse type: a number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def _mail_to(text: str) -> str:
    """An argparse type: an LMTP server's address."""
    from harness.emulator.mail_out import parse_mail_to

    try:
        parse_mail_to(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _font_file(text: str) -> str:
    """An argparse type: a font file Pillow can draw with."""
    from harness.emulator.layout import check_typeface

    try:
        return check_typeface(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _clock(text: str) -> str:
    """An argparse type: a time of day as the status bar shows it, HH:MM."""
    import re

    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
        raise argparse.ArgumentTypeError(f"expected a time as HH:MM (00:00-23:59), got {text!r}")
    return text


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1 (``--rack 0`` is a mistake, not "one handset")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _host_options(args: argparse.Namespace) -> Any:
    from harness.emulator.host import HostOptions
    from harness.emulator.phone import PhoneOptions

    phone = PhoneOptions(theme=args.theme, accent=args.accent, os_version=args.os_version,
                         animation_ms=args.animation_ms, toasts=args.toasts, toast_seed=args.toast_seed,
                         toast_interval=args.toast_interval, boot_time=args.boot_time,
                         signin_delay=args.signin_delay, start_screen=args.screen, serial=args.serial,
                         index=args.serial_index, font=args.font, clock=args.clock)
    return HostOptions(profile=args.profile, phone=phone, accounts_file=args.accounts, mail_dir=args.mail_dir,
                       mail_to=args.mail_to,
                       adb_keys=args.adb_key, adb_insecure=args.adb_insecure, adb_maxdata=args.adb_maxdata,
                       modem_number=args.modem_number, modem_vendor=args.modem_vendor,
                       extra={"modem_delivery": args.modem_delivery, "modem_reenumerate": args.modem_reenumerate,
                              "robot": args.robot, "robot_time_scale": args.robot_time_scale,
                              "bench_seed": args.bench_seed, "camera": args.camera,
                              "camera_size": args.camera_size, "camera_fps": args.camera_fps},
                       trust_user_keys=not args.no_user_keys, log=_log_to_stderr)


def _log_to_stderr(line: str) -> None:
    """One handset log line on stderr, in UTF-8 whatever the locale (it ends up in emulator.log)."""
    data = (line + "\n").encode("utf-8")
    stream = getattr(sys.stderr, "buffer", None)
    try:
        if stream is not None:
            stream.write(data)
            stream.flush()
        else:
            sys.stderr.write(data.decode("utf-8"))
            sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr closed or gone: the handset carries on without its log


def _cmd_emulate(args: argparse.Namespace) -> int:
    from harness.emulator.host import EmulatorHost
    from harness.emulator.lifeline import stop_on_signals, wait_for_stop
    from harness.emulator.memory import give_back_large_buffers
    from harness.emulator.ui import SCREENS

    if args.list_screens:
        print("\n".join(SCREENS))
        return 0
    if args.screen and args.screen not in SCREENS:
        raise HarnessError(f"--screen: unknown screen {args.screen!r} (see harness emulate --list-screens)")
    # From here on SIGINT/SIGTERM (and, for a child of the harness, its parent's death) unwind through
    # the ``finally`` blocks, so the emulator's temporary folders go with it.
    with stop_on_signals(args.parent_fd, args.parent_death_signal, args.runtime_dir):
        if args.rack is not None:
            return _run_rack(args)
        if args.modem_number and "," in args.modem_number:
            raise HarnessError(f"--modem-number {args.modem_number!r}: one handset has one SIM number (a list is "
                               "for --rack N)")
        give_back_large_buffers()  # this process is the handset: before its threads start (see emulator.memory)
        host = EmulatorHost(_host_options(args))
        try:
            running = host.start_handset()
            print(json.dumps(running.endpoints), flush=True)
            wait_for_stop()
        finally:
            host.stop()
    return 0


def _rack_child_args(args: argparse.Namespace) -> list[str]:
    """The flags of this command that every handset of a rack gets too."""
    out = ["--animation-ms", str(args.animation_ms), "--boot-time", str(args.boot_time),
           "--signin-delay", str(args.signin_delay), "--toast-interval", str(args.toast_interval),
           "--adb-maxdata", str(args.adb_maxdata), "--modem-vendor", args.modem_vendor,
           "--modem-delivery", args.modem_delivery] + (["--modem-reenumerate"] if args.modem_reenumerate else [])
    for flag, value in (("--theme", args.theme), ("--accent", args.accent), ("--os-version", args.os_version),
                        ("--accounts", args.accounts), ("--mail-dir", args.mail_dir), ("--mail-to", args.mail_to),
                        ("--font", args.font), ("--clock", args.clock)):
        if value:
            out += [flag, value]
    for key in args.adb_key:
        out += ["--adb-key", key]
    if args.adb_insecure:
        out.append("--adb-insecure")
    if args.no_user_keys:
        out.append("--no-user-keys")
    if args.toasts:
        out.append("--toasts")
    return out


def _rack_numbers(args: argparse.Namespace) -> list[str]:
    """``--modem-number`` of a rack: one SIM number per handset, each different (none: every handset the default)."""
    import re

    if not args.modem_number:
        return []
    numbers = [n.strip() for n in args.modem_number.split(",")]
    if len(numbers) != args.rack:
        raise HarnessError(f"--modem-number {args.modem_number!r}: a rack of {args.rack} handsets needs {args.rack} "
                           f"numbers, one per SIM (got {len(numbers)})")
    for number in numbers:
        if not re.fullmatch(r"\+?[0-9]{3,15}", number):
            raise HarnessError(f"--modem-number: {number!r} is not a phone number like +15550100")
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    if twice:
        raise HarnessError(f"--modem-number: {', '.join(twice)} given twice; two SIMs never share a number")
    return numbers


def _run_rack(args: argparse.Namespace) -> int:
    from harness.emulator.lifeline import wait_for_stop
    from harness.emulator.rack import EmulatedRack
    from harness.errors import ConfigError
    from harness.profiles import load_profile

    profiles = [p.strip() for p in args.rack_profiles.split(",") if p.strip()]
    if not profiles:
        raise HarnessError(f"--rack-profiles {args.rack_profiles!r}: name at least one profile ({', '.join(profile_names())})")
    for name in profiles:  # say which one is wrong here, not "a child exited with 2" later
        try:
            load_profile(name)
        except ConfigError as exc:
            raise HarnessError(f"--rack-profiles: {exc.problem if exc.field == '(name)' else exc}") from None
    rack = EmulatedRack(args.rack, profiles, _rack_child_args(args), modem_numbers=_rack_numbers(args))
    try:
        endpoints = rack.start()
        if args.inventory_out:
            from harness.lab.inventory import write_emulated_inventory

            endpoints["inventory"] = str(write_emulated_inventory(args.inventory_out, endpoints))
        print(json.dumps(endpoints), flush=True)
        wait_for_stop()
    finally:
        rack.stop()
    return 0
