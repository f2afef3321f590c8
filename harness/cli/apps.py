"""``harness sync`` and ``harness unlocks``: what the handset's apps show, read from its screen.

``sync`` reads the accounts in Settings, opens Outlook (every account's
inbox), People and Calendar and prints what sync brought (mail subjects per
account, contact names, event titles, each list scrolled to its end);
``unlocks`` visits the Store, Games, Music, Video, Messaging, People's What's
new and Backup and prints which of them a Microsoft account has unlocked.
Both work as a person does, through the screen (vision and OCR), so they
run on any handset the flows run on; both take ``--handset``/``--device``
and ``--timeout`` like the desk commands, and keep the run's screenshots and
step log under ``--artifacts``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from harness.cli.options import add_target_options, add_timeout_option, bounded, chosen_handset, open_chosen

#: The longest any one screen may take to come (each wait is bounded by --timeout too).
SCREEN_SECONDS = 30.0


def add_apps_parsers(sub: Any) -> None:
    """Register ``harness sync`` and ``harness unlocks`` on the ``harness`` command's subparsers."""
    specs = {
        "sync": ("print the mail subjects, contact names and calendar titles the handset's apps show",
                 '{"mail": [subject, ...], "contacts": [name, ...], "calendar": [title, ...], '
                 '"inboxes": {address: [subject, ...], ...}} ("mail" is the Microsoft account\'s inbox, "inboxes" '
                 'every inbox Outlook shows)'),
        "unlocks": ("print what a Microsoft account unlocks on the handset, as its apps show it",
                    '{"store", "xbox", "music", "video", "feeds", "facebook_chat", "backup": true|false}'),
    }
    for name, (text, shape) in specs.items():
        p = sub.add_parser(name, help=text, description=f"{text[0].upper()}{text[1:]}, read from the screen "
                                                         f"(vision and OCR). --json prints {shape}.")
        add_target_options(p)
        p.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
        p.add_argument("--artifacts", metavar="DIR", help="artifacts root (default: artifacts)")
        p.add_argument("--screens", metavar="DIR", help="screen library (default: the shipped one)")
        add_timeout_option(p, f"`harness {name}`")
        p.set_defaults(func=bounded(_cmd_sync if name == "sync" else _cmd_unlocks))


def _run(args: argparse.Namespace, flow: Callable[[Any], Any]) -> Any:
    """Open the chosen handset, run ``flow(run)`` on it, and close it; steps on stderr."""
    from harness.artifacts import Artifacts, new_run_folder
    from harness.cli.options import screen_library
    from harness.flows.runner import FlowRunner

    run_dir = new_run_folder(args.artifacts, args.command)

    def step(s: Any) -> None:
        print(f"  [{s.index:2d}] {s.screen:<24} {s.seconds:5.2f}s  {s.action}", file=sys.stderr, flush=True)

    args.stage("waiting for the handset's lease" if args.device else "starting")
    with chosen_handset(args) as chosen:
        args.stage(f"connecting to {chosen.uri}")
        opened = open_chosen(chosen, log_dir=run_dir, one_shot=True)
        try:
            args.stage(f"reading the apps of {chosen.uri}")
            run = FlowRunner(opened.handset, screen_library(args.screens), Artifacts(run_dir),
                             timeout=min(SCREEN_SECONDS, args.timeout), on_step=step,
                             scale=opened.profile.scale if opened.profile else None)
            result = flow(run)
        finally:
            opened.close()
    print(f"artifacts: {run_dir}", file=sys.stderr, flush=True)
    return result


def _cmd_sync(args: argparse.Namespace) -> int:
    from harness.flows.help_page import synced_lists

    shown = _run(args, synced_lists)
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
    else:
        lists = {k: v for k, v in shown.items() if k != "inboxes"}
        lists.update({f"inbox of {address}": items for address, items in shown["inboxes"].items()})
        for what, items in lists.items():
            print(f"{what} ({len(items)}):")
            for item in items:
                print(f"  {item}")
    return 0


def _cmd_unlocks(args: argparse.Namespace) -> int:
    from harness.flows.help_page import unlocks

    shown = _run(args, unlocks)
    if args.json:
        print(json.dumps(shown))
    else:
        for what, usable in shown.items():
            print(f"{what:<14} {'yes' if usable else 'no (needs a Microsoft account)'}")
    return 0
