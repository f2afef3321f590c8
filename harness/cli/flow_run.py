"""Running one flow from the command line (``harness signin``, ``harness run-flow``): same artifacts, exit codes, secrets.

Accounts come with their passwords from the environment (or a prompt), and
with what they have on file (phone, e-mail) from the command line or, on an
``emulator://`` handset, from the account file the emulator serves. Access
codes come from the modem (by text), or by e-mail from a Maildir or an IMAP
inbox (``--inbox imaps://user@host/INBOX``, its password from the
environment), on every kind of handset.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from harness.accounts import Credentials
from harness.cli.options import add_target_options, chosen_handset, open_chosen, screen_library
from harness.cli.wording import worded
from harness.errors import HarnessError, HarnessTimeout
from harness.flows.codes import CodesByAccount
from harness.flows.imap_codes import is_inbox_url
from harness.lab.chosen import ChosenHandset
from harness.modem.options import add_modem_options, chosen_options
from harness.secrets import redact

EXIT_OK, EXIT_ERROR, EXIT_FAILED, EXIT_TIMEOUT, EXIT_STUCK, EXIT_INTERRUPTED = 0, 2, 3, 4, 5, 130
EXIT_CODES_HELP = """exit codes:
  0    done: signed in (or the flow returned)
  2    usage or set-up error: bad arguments, handset or modem unreachable, or the access code
       goes where the harness cannot read it (a number the modem does not hold)
  3    sign-in failed: the handset shows a failure screen, named on stderr
       (wrong_password, unknown_account, no_network)
  4    timed out: a screen or the access code did not come within --timeout; says what was
       expected and what was seen
  5    the flow could not go on: the handset showed something the flow has no step for
  130  interrupted (Ctrl-C); the last line says what the run kept
  143  stopped by SIGTERM: cleans up and says what it kept, as for Ctrl-C
Every run keeps its screenshots, steps.jsonl and serial logs under --artifacts, also when it fails."""


def add_run_arguments(p: argparse.ArgumentParser, account_required: bool) -> None:
    """The options ``signin`` and ``run-flow`` share."""
    add_target_options(p)  # --handset URI, or --device NAME of the inventory (under its lease)
    p.add_argument("--account", required=account_required, metavar="ADDRESS", help="Microsoft account e-mail address")
    p.add_argument("--password-env", default="HARNESS_PASSWORD", metavar="VAR",
                   help="environment variable holding its password (default HARNESS_PASSWORD; prompts when unset)")
    p.add_argument("--phone-on-file", metavar="NUMBER", help="the account's phone number for two-step codes (checked "
                   "against the modem's at once; emulator://: read from the emulator's account file)")
    p.add_argument("--email-on-file", metavar="ADDRESS", help="the account's e-mail address for two-step codes")
    p.add_argument("--additional", action="append", default=[], metavar="ADDRESS",
                   help="an additional Outlook.com account (after-update; repeatable)")
    p.add_argument("--additional-password-env", action="append", default=[], metavar="VAR",
                   help="its password's variable, in the order of --additional (prompts when not given)")
    p.add_argument("--previous", metavar="ADDRESS", help="change-account: the account to sign in first on a phone in set-up")
    p.add_argument("--previous-password-env", metavar="VAR", help="its password's variable (prompts when not given)")
    p.add_argument("--code", choices=("text", "email"), help="how the two-step access code comes "
                   "(default: email with --inbox, else text)")
    p.add_argument("--modem", metavar="URL", help="pyserial URL of the modem that receives codes by text "
                   "(default: the handset's own, e.g. the emulator's)")
    p.add_argument("--modem-number", metavar="NUMBER", help="the modem's number when its SIM does not say (AT+CNUM)")
    add_modem_options(p)
    p.add_argument("--inbox", type=_inbox_arg, metavar="MAILDIR|URL", help="where codes by e-mail arrive: imaps://USER@HOST[:PORT]/FOLDER "
                   "(or imap://), read over IMAP; or a Maildir (on emulator:// the folder where the emulator delivers "
                   "mail, one Maildir per address)")
    p.add_argument("--inbox-password-env", default="HARNESS_INBOX_PASSWORD", metavar="VAR",
                   help="environment variable holding the IMAP inbox's password (default HARNESS_INBOX_PASSWORD; "
                        "prompts when unset); a password in the URL is refused")
    p.add_argument("--inbox-ca", metavar="FILE", help="trust this CA certificate for imaps:// (a lab's own CA, a "
                   "self-signed server); verification is always on")
    p.add_argument("--inbox-keep", action="store_true", help="leave the code's message in the IMAP inbox after use "
                   "(default: deleted)")
    p.add_argument("--screens", metavar="DIR", help="screen library folder")
    p.add_argument("--artifacts", metavar="DIR", help="artifacts root (default: artifacts)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="most seconds any one wait may take: a screen or the access code (a reboot adds 30)")
    add_record_option(p)


def add_record_option(p: argparse.ArgumentParser) -> None:
    """``--record``: which runs keep a video of the frames the flow took (every run gets timeline.html)."""
    p.add_argument("--record", choices=("always", "failures", "never"), default="failures",
                   help="keep ARTIFACTS/.../video.webm of every frame the flow took: always, failures (default: "
                        "only when the run does not end in success) or never; timeline.html is written either way")


def _inbox_arg(text: str) -> str:
    """An argparse type: a Maildir path, or an IMAP URL that parses and holds no password (checked before anything starts)."""
    from harness.flows.imap_codes import InboxError, parse_inbox_url

    if is_inbox_url(text):
        try:
            parse_inbox_url(text)
        except InboxError as exc:
            raise argparse.ArgumentTypeError(worded(exc).removeprefix("--inbox ")) from None
    return text


def _password(address: str, var: str | None, option: str) -> str:
    if var and var in os.environ:
        return os.environ[var]
    if not sys.stdin.isatty():
        why = f"${var} is not set" if var else f"no {option} given"
        raise HarnessError(f"{option}: {why} and there is no terminal to ask for the password of {address}")
    return getpass.getpass(f"password for {address}: ")


def _emulator_on_file(query: dict[str, str]) -> dict[str, Any]:
    """The accounts an emulator:// handset's service holds: what each has on file (read from its account file)."""
    from harness.emulator.accounts import DEMO_ACCOUNTS, load_accounts

    return {a.address.lower(): a for a in load_accounts(query.get("accounts") or DEMO_ACCOUNTS)}


def _accounts(args: argparse.Namespace, on_file: dict[str, Any]) -> tuple[Credentials | None, list[Credentials], Credentials | None]:
    def make(address: str, var: str | None, option: str, phone: str | None = None, email: str | None = None) -> Credentials:
        known = on_file.get(address.lower())
        return Credentials.of(address, _password(address, var, option), phone or (known.phone if known else None),
                              email or (known.email if known else None))

    if len(args.additional_password_env) > len(args.additional):
        raise HarnessError("--additional-password-env: more variables than --additional accounts")
    account = make(args.account, args.password_env, "--password-env", args.phone_on_file, args.email_on_file) \
        if args.account else None
    extra_vars = args.additional_password_env + [None] * (len(args.additional) - len(args.additional_password_env))
    additional = [make(a, v, "--additional-password-env") for a, v in zip(args.additional, extra_vars)]
    previous = make(args.previous, args.previous_password_env, "--previous-password-env") if args.previous else None
    return account, additional, previous


def _emulator_uri(uri: str, args: argparse.Namespace, account: Credentials | None, defaults: dict[str, str],
                  note: Callable[[str], None]) -> str:
    """The emulator:// URI with what the run needs: the account's number in its modem, the inbox as its mail folder."""
    from harness.handsets import parse_uri, with_options

    query = parse_uri(uri).query
    extra: dict[str, str] = {k: v for k, v in defaults.items() if k not in query and not (k == "os_version" and "os" in query)}
    if account is not None and account.phone and "modem_number" not in query and not args.modem:
        extra["modem_number"] = account.phone
    if args.inbox and not is_inbox_url(args.inbox) and "mail_dir" not in query:
        extra["mail_dir"] = str(Path(args.inbox).resolve())
        try:
            Path(args.inbox).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HarnessError(f"--inbox {args.inbox}: cannot make the folder: {exc.strerror or exc}") from None
    for key, value in extra.items():
        note(f"emulated handset: {key}={value}" + (" (the account's number on file)" if key == "modem_number" else ""))
    if not extra:
        return uri
    return with_options(uri, **extra)


def _code_sources(args: argparse.Namespace, opened: Any, run_dir: Path, entry: Any = None) -> tuple[CodesByAccount, Any]:
    """The run's code sources from --code/--modem/--inbox and the handset's endpoints, and the modem opened for them."""
    from harness.flows.codes import SmsCodeSource

    method = args.code or ("email" if args.inbox else "text")
    imap = _imap_source(args) if args.inbox and is_inbox_url(args.inbox) and method == "email" else None
    root = None if imap is not None else opened.endpoints.get("mail")  # an emulator's mail folder: one Maildir per address
    mail_root = Path(root) if root and (opened.emulator is not None or not args.inbox) else None
    inbox = None if mail_root is not None or imap is not None else (Path(args.inbox) if args.inbox else None)
    if method == "email" and mail_root is None and inbox is None and imap is None:
        raise HarnessError("--code email: give --inbox imaps://USER@HOST/INBOX or --inbox MAILDIR "
                           "(where the code e-mails arrive)")
    modem = sms = None
    url = (args.modem or opened.endpoints.get("modem")) if method == "text" else None
    if url:
        from harness.modem import GsmModem
        from harness.serial_port import SerialPort

        modem = GsmModem(SerialPort(url), log_path=run_dir / "modem.log", **chosen_options(args, entry)).open()
        stated = args.modem_number or (None if args.modem else opened.endpoints.get("modem_number"))
        sms = SmsCodeSource(modem, number=stated)
    return CodesByAccount(method, sms, inbox, mail_root, imap=imap), modem


def _imap_source(args: argparse.Namespace) -> Any:
    """The IMAP inbox of ``--inbox URL``, its password from ``--inbox-password-env`` (or a prompt)."""
    from harness.flows.imap_codes import ImapCodeSource, parse_inbox_url
    from harness.secrets import Secret

    url = parse_inbox_url(args.inbox)  # refuses a password in the URL, naming the variable instead
    password = Secret(_password(str(url), args.inbox_password_env, "--inbox-password-env"))
    return ImapCodeSource(url, password, keep=args.inbox_keep, ca_file=args.inbox_ca)


def console_log(opened: Any, run_dir: Path) -> Any:
    """Keep the handset's serial console in ``run_dir/console.log`` while the flow runs (None: no console)."""
    url = opened.endpoints.get("console")
    if not url:
        return None
    from harness.console import SerialConsole, console_port

    return SerialConsole(console_port(url, opened.profile), log_path=run_dir / "console.log").open()


def close_run(opened: Any, recording: Any, ports: tuple[Any, ...], succeeded: bool) -> None:
    """End a run: its serial ports, then the handset, then the recording, which goes last so the ports' final
    lines are on the timeline too and is written even when closing a port or the handset fails."""
    try:
        for port in ports:
            if port is not None:
                port.close()
        opened.close()
    finally:
        recording.close(failed=not succeeded)


def show_step(step: Any) -> None:
    """One line per flow step as it happens, so a person sees where a sign-in is (and where it stopped)."""
    bar = "#" * min(step.index, 30)
    print(f"  [{step.index:2d}] {step.screen:<24} score {step.score:5.2f}  {step.seconds:5.2f}s  {step.action}"
          f"   {bar}", flush=True)


def _note(text: str) -> None:
    print(f"  note: {text}", flush=True)


def run_flow_command(args: argparse.Namespace, flow: Callable[..., Any], label: str, run_dir: Path,
                     emulator_defaults: dict[str, str] | None = None) -> int:
    """Open the handset, run ``flow(run, ctx)``, and turn the outcome into an exit code and one line on stderr."""
    try:
        return _run(args, flow, label, run_dir, emulator_defaults or {})
    except HarnessError as exc:
        code = EXIT_TIMEOUT if isinstance(exc, HarnessTimeout) else _exit_code(exc)
        print(f"harness {args.command}: {redact(worded(exc, args.command))}", file=sys.stderr)
        try:
            run_dir.rmdir()  # refused before anything was kept (a leased handset, a bad option): no empty folder
        except OSError:
            print(f"artifacts: {run_dir}", file=sys.stderr)
        return code


def _exit_code(exc: HarnessError) -> int:
    from harness.flows.runner import FlowError, SignInFailed

    if isinstance(exc, SignInFailed):
        return EXIT_FAILED
    if isinstance(exc, FlowError):
        return EXIT_STUCK
    return EXIT_ERROR


def _run(args: argparse.Namespace, flow: Callable[..., Any], label: str, run_dir: Path,
         emulator_defaults: dict[str, str]) -> int:
    with chosen_handset(args) as chosen:  # an inventory handset runs the flow under its lease
        return _run_on(args, chosen, flow, label, run_dir, emulator_defaults)


def _run_on(args: argparse.Namespace, chosen: ChosenHandset, flow: Callable[..., Any], label: str, run_dir: Path,
            emulator_defaults: dict[str, str]) -> int:
    from harness.artifacts import Artifacts
    from harness.handsets import parse_uri, starts_handset
    from harness.flows.library import FlowContext
    from harness.flows.runner import FlowRunner, SignInFailed
    from harness.timeline.run import RunRecording

    artifacts = Artifacts(run_dir)
    uri = chosen.require_uri()
    emulated = starts_handset(uri)
    on_file = _emulator_on_file(parse_uri(uri).query) if emulated else {}
    account, additional, previous = _accounts(args, on_file)
    if emulated:
        chosen.uri = _emulator_uri(uri, args, account, emulator_defaults, _note)
    opened = open_chosen(chosen, log_dir=run_dir)
    if chosen.entry is not None:  # the inventory's modem (and its number) receives the codes of its handset
        opened.endpoints.update({k: chosen.port(k, None) for k in ("modem", "console") if getattr(chosen.entry, k, None)})
        if chosen.entry.modem_number:
            opened.endpoints["modem_number"] = chosen.entry.modem_number
    modem = console = None
    recording = RunRecording(artifacts, args.record, title=f"harness {args.command} {run_dir.name}")
    recording.power_channels = _power_channels(opened, chosen)
    succeeded = False
    try:
        console = console_log(opened, run_dir)
        codes, modem = _code_sources(args, opened, run_dir, chosen.entry)
        run = FlowRunner(recording.handset(opened.handset), screen_library(args.screens), artifacts, timeout=args.timeout, on_step=show_step, on_note=_note,
                         scale=opened.profile.scale if opened.profile else None)
        ctx = FlowContext(account, additional, previous, codes, dict(getattr(args, "param", None) or {}))
        who = f" {account.address}" if account else ""
        print(f"{label}{who} on {args.device or chosen.place or uri} (access code by {codes.method})", flush=True)
        started = time.monotonic()
        try:
            result = flow(run, ctx)
        except SignInFailed as exc:
            artifacts.record("result", outcome="failed", screen=exc.screen)
            print(f"sign-in failed: the handset shows {exc.screen} (screenshot: {exc.screenshot})", file=sys.stderr)
            print(f"artifacts: {run_dir}", file=sys.stderr)
            return EXIT_FAILED
        except HarnessError as exc:
            from harness.cli.evidence import keep_evidence

            evidence = keep_evidence(artifacts, opened.handset, exc)  # bounded: a hung handset does not hang here
            artifacts.record("result", outcome="error", error=str(exc), type=type(exc).__name__, evidence=evidence)
            print(f"evidence: {evidence}", file=sys.stderr)
            raise
        seconds = time.monotonic() - started
        address = getattr(result, "account", None)
        artifacts.record("result", outcome="done", final_screen=getattr(result, "final_screen", None))
        if address:
            how = [w for w, on in (("two-step code", getattr(result, "two_step", False)),
                                   ("backup restored", getattr(result, "restored", False))) if on]
            print(f"signed in as {address} in {seconds:.1f}s" + (f" ({', '.join(how)})" if how else "")
                  + f"; artifacts: {run_dir}")
        else:
            print(redact(f"done: {result!r}; artifacts: {run_dir}") if result is not None else f"done; artifacts: {run_dir}")
        for line in getattr(result, "notes", []) or []:
            print(f"  {line}")
        succeeded = True
        return EXIT_OK
    finally:
        close_run(opened, recording, (modem, console), succeeded)


def _power_channels(opened: Any, chosen: Any) -> set[str]:
    """The journal names of the handset's power channels (its inventory entry's, its emulated relay's)."""
    from harness.lab.power_journal import channels_of

    try:
        channel = chosen.power_channel()
    except (HarnessError, OSError):   # a port the inventory names but this host cannot resolve: its endpoints still
        channel = None
    return channels_of(opened.endpoints, channel)
