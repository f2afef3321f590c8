"""``harness signin`` and ``harness demo``: the sign-in flows from the command line."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


def _progress(step: Any) -> None:
    bar = "#" * min(step.index, 30)
    print(f"  [{step.index:2d}] {step.screen:<24} score {step.score:5.2f}  {step.seconds:5.2f}s  {step.action}"
          f"   {bar}", flush=True)


def _run_dir(root: str | None, label: str) -> Path:
    """A new folder for this run (``label-TIME``, ``label-TIME.2`` for a second run in the same second)."""
    from harness.artifacts import new_run_folder

    return new_run_folder(root, label)


def add_signin_parser(sub: Any) -> None:
    p = sub.add_parser("signin", help="run a Microsoft-account sign-in flow on a handset",
                       description="Sign in on any handset; exits 0 when signed in, 3 with the failure screen named.")
    from harness.desk import add_target_options

    add_target_options(p)  # --handset URI, or --device NAME of the inventory (under its lease)
    p.add_argument("--account", required=True, metavar="ADDRESS", help="Microsoft account e-mail address")
    p.add_argument("--password-env", default="HARNESS_PASSWORD", metavar="VAR",
                   help="environment variable holding the password (default HARNESS_PASSWORD; prompts when unset)")
    p.add_argument("--path", choices=("setup", "settings"), default="setup", help="sign in during setup or from Settings")
    p.add_argument("--modem", metavar="URL", help="pyserial URL of the modem that receives the access code by text")
    p.add_argument("--inbox", metavar="MAILDIR", help="Maildir that receives the access code by e-mail")
    p.add_argument("--screens", metavar="DIR", help="screen library folder")
    p.add_argument("--artifacts", metavar="DIR", help="artifacts root (default: artifacts)")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for each screen")
    p.set_defaults(func=_cmd_signin)


def add_demo_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="sign in with two-step verification by text on an emulated handset",
                       description="Start an emulated handset (no phone needed), sign the demo account "
                                   "alice@outlook.com in during setup with its access code read from the emulated "
                                   "modem, and keep every screenshot, the step log and the serial logs under "
                                   "ARTIFACTS/demo-TIME/. Exits 0 when signed in.")
    p.add_argument("--profile", default="lumia-930", help="device profile of the emulated handset")
    p.add_argument("--theme", choices=("dark", "light"), help="theme of the emulated handset")
    p.add_argument("--artifacts", metavar="DIR", help="artifacts root (default: artifacts)")
    p.set_defaults(func=_cmd_demo)


def _library(folder: str | None) -> Any:
    from harness.vision import ScreenLibrary

    return ScreenLibrary.load(folder) if folder else ScreenLibrary.load_default()


def _console_log(opened: Any, run_dir: Path) -> Any:
    """Keep the handset's serial console in ``run_dir/console.log`` while the flow runs (None: no console)."""
    url = opened.endpoints.get("console")
    if not url:
        return None
    from harness.console import SerialConsole

    return SerialConsole(url, log_path=run_dir / "console.log")


def _sign_in(opened: Any, credentials: Any, path: str, code: Any, artifacts_dir: Path, screens: str | None,
             timeout: float) -> Any:
    from harness.artifacts import Artifacts
    from harness.flows import FlowRunner, sign_in_after_setup, sign_in_during_setup

    run = FlowRunner(opened.handset, _library(screens), Artifacts(artifacts_dir), timeout=timeout, on_step=_progress,
                     scale=opened.profile.scale if opened.profile else None)
    if path == "settings":
        return sign_in_after_setup(run, credentials, code)
    return sign_in_during_setup(run, credentials, code)


def _cmd_signin(args: argparse.Namespace) -> int:
    from harness.desk import Target
    from harness.flows import Credentials

    password = os.environ.get(args.password_env)
    if password is None:
        if not sys.stdin.isatty():
            raise HarnessError(f"--password-env: ${args.password_env} is not set and there is no terminal to ask")
        password = getpass.getpass(f"password for {args.account}: ")
    credentials = Credentials.of(args.account, password)
    with Target(args) as target:  # an inventory handset is signed in under its lease
        uri = target.require_uri()
        ports = {k: target.port(k, None) for k in ("modem", "console") if getattr(target.entry, k, None)}
        run_dir = _run_dir(args.artifacts, "signin")
        opened = target.open(log_dir=run_dir)
        opened.endpoints.update(ports)  # the inventory's modem receives the codes of its handset
        return _signin_on(args, opened, credentials, run_dir, uri)


def _signin_on(args: argparse.Namespace, opened: Any, credentials: Any, run_dir: Path, uri: str) -> int:
    from harness.flows import MaildirCodeSource, SignInFailed, SmsCodeSource

    modem = console = None
    try:
        console = _console_log(opened, run_dir)
        code = None
        modem_url = args.modem or opened.endpoints.get("modem")
        if args.inbox:
            code = MaildirCodeSource(args.inbox)
        elif modem_url:
            from harness.modem import GsmModem

            modem = GsmModem(modem_url, log_path=run_dir / "modem.log")
            code = SmsCodeSource(modem)
        print(f"signing in {args.account} on {args.device or uri} ({args.path})", flush=True)
        try:
            result = _sign_in(opened, credentials, args.path, code, run_dir, args.screens, args.timeout)
        except SignInFailed as exc:
            print(f"sign-in failed: the handset shows {exc.screen} (screenshot: {exc.screenshot})", file=sys.stderr)
            print(f"artifacts: {run_dir}", file=sys.stderr)
            return 3
        print(f"signed in as {result.account} in {result.seconds:.1f}s; artifacts: {run_dir}")
        return 0
    finally:
        for port in (modem, console):
            if port is not None:
                port.close()
        opened.close()


def _cmd_demo(args: argparse.Namespace) -> int:
    from harness.accounts import DEMO_SECRETS, load_secrets_file
    from harness.devices import open_handset
    from harness.flows import SmsCodeSource
    from harness.modem import GsmModem

    run_dir = _run_dir(args.artifacts, "demo")
    account = load_secrets_file(DEMO_SECRETS)["primary"]
    uri = f"emulator://{args.profile}" + (f"?theme={args.theme}" if args.theme else "")
    print(f"starting an emulated {args.profile} handset ...", flush=True)
    opened = open_handset(uri, log_dir=run_dir)
    modem = console = None
    try:
        console = _console_log(opened, run_dir)
        print(f"  handset {opened.handset.info.model} serial {opened.handset.info.serial} "
              f"({opened.handset.info.width}x{opened.handset.info.height}) over ADB at {opened.endpoints.get('adb')}")
        modem = GsmModem(opened.endpoints["modem"], log_path=run_dir / "modem.log")
        print(f"  modem on {opened.endpoints['modem']}; signing in {account.address} during setup "
              f"with two-step verification by text", flush=True)
        result = _sign_in(opened, account, "setup", SmsCodeSource(modem), run_dir, None, 20.0)
        print(f"signed in as {result.account} in {result.seconds:.1f}s (two-step: {result.two_step})")
        print(f"screenshots, step log and serial logs: {run_dir}")
        return 0
    finally:
        for port in (modem, console):
            if port is not None:
                port.close()
        opened.close()
