"""The ``harness`` command: the top-level parser, dispatch and exit codes; each group of sub-commands has its module here."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from typing import Any, Callable, Sequence

from harness.errors import HarnessError

#: Sub-command providers: (module, function taking the subparsers object).
SUBCOMMAND_PROVIDERS: list[tuple[str, str]] = [
    ("harness.cli.emulator", "add_emulate_parser"),
    ("harness.cli.flows", "add_demo_parser"),
    ("harness.cli.flows", "add_signin_parser"),
    ("harness.cli.flows", "add_run_flow_parser"),
    ("harness.cli.vision", "add_match_parser"),
    ("harness.cli.vision", "add_screens_parser"),
    ("harness.cli.lab", "add_devices_parser"),
    ("harness.cli.desk", "add_desk_parsers"),
]


def _version() -> str:
    """The installed distribution's version (package metadata), so it always matches what pip installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("handset-harness")
    except PackageNotFoundError:
        return "(not installed: running from a source tree)"


def build_parser() -> argparse.ArgumentParser:
    """The ``harness`` parser: each group's module registers its own sub-commands (``SUBCOMMAND_PROVIDERS``)."""
    parser = argparse.ArgumentParser(prog="harness", description="Drive real and emulated phones.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module, name in SUBCOMMAND_PROVIDERS:
        provider: Callable[[Any], None] = getattr(importlib.import_module(module), name)
        provider(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``harness`` command; every error, interrupt and closed pipe ends in one line and a fixed exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate) if threading.current_thread() is threading.main_thread() else None
    try:
        return int(args.func(args) or 0)
    except HarnessError as exc:
        print(f"harness {args.command}: {exc}", file=sys.stderr)
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
