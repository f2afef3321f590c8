"""The ``harness`` command: the top-level parser, dispatch and exit codes; each group of sub-commands has its module here."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from typing import Any, Callable, Sequence

from harness.errors import HarnessError

#: Sub-command providers: (module, function taking the subparsers object, the commands it registers).
#: A command loads only its own module: ``harness emulate`` (each handset of a rack is one) never pays
#: for OpenCV, numpy and the drivers that the flows and desk commands import.
SUBCOMMAND_PROVIDERS: list[tuple[str, str, tuple[str, ...]]] = [
    ("harness.cli.emulator", "add_emulate_parser", ("emulate",)),
    ("harness.cli.flows", "add_demo_parser", ("demo",)),
    ("harness.cli.flows", "add_signin_parser", ("signin",)),
    ("harness.cli.flows", "add_run_flow_parser", ("run-flow",)),
    ("harness.cli.vision", "add_match_parser", ("match",)),
    ("harness.cli.vision", "add_screens_parser", ("screens",)),
    ("harness.cli.vision", "add_read_text_parser", ("read-text",)),
    ("harness.cli.lab", "add_devices_parser", ("devices",)),
    ("harness.cli.view", "add_view_parser", ("view",)),
    ("harness.cli.timeline", "add_timeline_parser", ("timeline",)),
    ("harness.cli.labgrid", "add_lab_parser", ("lab",)),
    ("harness.cli.robot", "add_calibrate_parser", ("calibrate",)),
    ("harness.cli.apps", "add_apps_parsers", ("sync", "unlocks")),
    ("harness.cli.desk", "add_desk_parsers", ("screenshot", "tap", "swipe", "text", "key", "shell", "console",
                                               "sms", "power")),
]


def _version() -> str:
    """The installed distribution's version (package metadata), so it always matches what pip installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("handset-harness")
    except PackageNotFoundError:
        return "(not installed: running from a source tree)"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``harness`` parser: each group's module registers its own sub-commands (``SUBCOMMAND_PROVIDERS``);
    given ``command``, only the module that registers it is loaded."""
    parser = argparse.ArgumentParser(prog="harness", description="Drive real and emulated phones.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    known = {c for _, _, commands in SUBCOMMAND_PROVIDERS for c in commands}
    for module, name, commands in SUBCOMMAND_PROVIDERS:
        if command in known and command not in commands:
            continue  # ``command`` (the first word of the command line) is another provider's: not loaded
        provider: Callable[[Any], None] = getattr(importlib.import_module(module), name)
        provider(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``harness`` command; every error, interrupt and closed pipe ends in one line and a fixed exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(words)
    previous = signal.signal(signal.SIGTERM, _terminate) if threading.current_thread() is threading.main_thread() else None
    try:
        return int(args.func(args) or 0)
    except HarnessError as exc:
        from harness.cli.wording import worded

        print(f"harness {args.command}: {worded(exc, args.command)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated): the command has cleaned up; say what it kept
        from harness.artifacts import kept, run_folders

        how = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
        folders = run_folders()
        print(f"\nharness {args.command}: interrupted by {how}"
              + (f"; kept {'; '.join(kept(f) for f in folders)}" if folders else ""), file=sys.stderr, flush=True)
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:  # `harness ... | head`: the reader left; stop quietly, as other tools do
        _quiet_stdout()
        return 141
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so it cleans up and reports exactly as it does for Ctrl-C."""


def _terminate(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: let the clean-up finish
    raise Terminated()


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on the closed pipe again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
