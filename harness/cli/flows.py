"""``harness signin``, ``harness run-flow`` and ``harness demo``: flows from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


def _run_dir(root: str | None, label: str) -> Path:
    """A new folder for this run (``label-TIME``, ``label-TIME.2`` for a second run in the same second)."""
    from harness.artifacts import new_run_folder

    return new_run_folder(root, label)


def add_signin_parser(sub: Any) -> None:
    """Register ``harness signin`` (one of the project's sign-in flows) on the subparsers."""
    from harness.cli.flow_run import EXIT_CODES_HELP, add_run_arguments
    from harness.flows.library import FLOWS

    flows = "\n".join(f"  {name:<15} {(fn.__doc__ or '').splitlines()[0]}" for name, fn in FLOWS.items())
    p = sub.add_parser("signin", help="run a Microsoft-account sign-in flow on a handset",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Run one of the project's sign-in flows on any handset.",
                       epilog=f"flows (--flow):\n{flows}\n\n{EXIT_CODES_HELP}")
    add_run_arguments(p, account_required=True)
    p.add_argument("--flow", choices=list(FLOWS), help="which flow (default: setup)")
    p.add_argument("--path", choices=("setup", "settings"), help="the same as --flow setup|settings")
    p.set_defaults(func=_cmd_signin)


def add_run_flow_parser(sub: Any) -> None:
    """Register ``harness run-flow`` (a lab's own flow, with the artifacts and exit codes of signin)."""
    from harness.cli.flow_run import EXIT_CODES_HELP, add_run_arguments

    p = sub.add_parser("run-flow", help="run a flow of your own (module:function) on a handset",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Run flow(run, ctx) from MODULE:FUNCTION or FILE.py:FUNCTION with the artifacts, "
                                   "exit codes and secrets handling of harness signin (see docs/flows.md).",
                       epilog=EXIT_CODES_HELP)
    p.add_argument("flow", metavar="MODULE:FUNCTION", help="the flow function, e.g. labflows:sign_in_twice")
    add_run_arguments(p, account_required=False)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", type=_param,
                   help="a value for the flow (ctx.params[KEY]); repeatable")
    p.set_defaults(func=_cmd_run_flow)


def _param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE")
    return key, value


def add_demo_parser(sub: Any) -> None:
    """Register ``harness demo``: a sign-in with two-step by text on an emulated handset, no phone needed."""
    from harness.cli.flow_run import add_record_option

    p = sub.add_parser("demo", help="sign in with two-step verification by text on an emulated handset",
                       description="Start an emulated handset (no phone needed), sign the demo account "
                                   "alice@outlook.com in during setup with its access code read from the emulated "
                                   "modem, and keep every screenshot, the step log and the serial logs under "
                                   "ARTIFACTS/demo-TIME/. Exits 0 when signed in.")
    p.add_argument("--profile", default="lumia-930", help="device profile of the emulated handset")
    p.add_argument("--theme", choices=("dark", "light"), help="theme of the emulated handset")
    p.add_argument("--artifacts", metavar="DIR", help="artifacts root (default: artifacts)")
    p.add_argument("--camera-robot", action="store_true",
                   help="drive the handset through an emulated camera and tapping robot: calibrate the slot "
                        "(harness calibrate), then sign in through robot:// (harness/cli/demo_robot.py)")
    p.add_argument("--bench-seed", type=int, metavar="N",
                   help="with --camera-robot: where the phone lies on the robot's bed (random when not given)")
    add_record_option(p)
    p.set_defaults(func=_cmd_demo)


def demo_sign_in(opened: Any, account: Any, run_dir: Path, recording: Any, saying: str, kept: str) -> int:
    """The demo's sign-in and its summary on any handset (``harness demo``, ``--camera-robot``): the serial
    console and the modem logged in ``run_dir``, ``saying`` said, ``account`` signed in during setup with the
    code by text, with the shipped screen library and 20 s for any one screen; what was signed in, and where
    ``kept`` is, said. The run is closed (ports, handset, recording) however it ends; 0 when signed in."""
    from harness.cli.flow_run import close_run, console_log, show_step
    from harness.flows import FlowRunner, SmsCodeSource, sign_in_during_setup
    from harness.modem import GsmModem
    from harness.serial_port import SerialPort
    from harness.vision import ScreenLibrary

    modem = console = None
    succeeded = False
    try:
        console = console_log(opened, run_dir)
        modem = GsmModem(SerialPort(opened.endpoints["modem"]), log_path=run_dir / "modem.log").open()
        print(saying, flush=True)
        run = FlowRunner(recording.handset(opened.handset), ScreenLibrary.load_default(), recording.artifacts,
                         timeout=20.0, on_step=show_step, scale=opened.profile.scale if opened.profile else None)
        result = sign_in_during_setup(run, account, SmsCodeSource(modem))
        print(f"signed in as {result.account} in {result.seconds:.1f}s (two-step: {result.two_step})")
        print(f"{kept}: {run_dir}")
        succeeded = True
        return 0
    finally:
        close_run(opened, recording, (modem, console), succeeded)


def _cmd_signin(args: argparse.Namespace) -> int:
    from harness.cli.flow_run import run_flow_command
    from harness.flows.library import EMULATOR_DEFAULTS, FLOWS

    if args.flow and args.path and args.flow != args.path:
        raise HarnessError(f"--path {args.path} and --flow {args.flow} disagree: give one")
    name = args.flow or args.path or "setup"
    return run_flow_command(args, FLOWS[name], f"signing in ({name})", _run_dir(args.artifacts, "signin"),
                            EMULATOR_DEFAULTS.get(name))


def _cmd_run_flow(args: argparse.Namespace) -> int:
    from harness.cli.flow_run import run_flow_command
    from harness.flows.library import load_flow

    args.param = dict(args.param)
    flow = load_flow(args.flow)
    return run_flow_command(args, flow, f"running {args.flow}", _run_dir(args.artifacts, "run-flow"))


def _cmd_demo(args: argparse.Namespace) -> int:
    from harness.accounts import DEMO_SECRETS, load_secrets_file
    from harness.artifacts import Artifacts
    from harness.timeline.run import RunRecording
    from harness.handsets import open_handset

    run_dir = _run_dir(args.artifacts, "demo")
    account = load_secrets_file(DEMO_SECRETS)["primary"]
    if args.camera_robot:
        from harness.cli.demo_robot import run_camera_robot_demo

        return run_camera_robot_demo(args, run_dir, account)
    if args.bench_seed is not None:
        raise HarnessError("--bench-seed places the phone on the robot's bed: it needs --camera-robot")
    uri = f"emulator://{args.profile}" + (f"?theme={args.theme}" if args.theme else "")
    print(f"starting an emulated {args.profile} handset ...", flush=True)
    opened = open_handset(uri, log_dir=run_dir)
    recording = RunRecording(Artifacts(run_dir), args.record, title=f"harness demo {run_dir.name}")
    info = opened.handset.info
    return demo_sign_in(opened, account, run_dir, recording,
                        f"  handset {info.model} serial {info.serial} ({info.width}x{info.height}) over ADB at "
                        f"{opened.endpoints.get('adb')}\n  modem on {opened.endpoints['modem']}; signing in "
                        f"{account.address} during setup with two-step verification by text",
                        "screenshots, step log, serial logs and timeline.html")