"""Starts emulated handsets with all their transports, as ``harness emulate`` does.

One host runs one handset (or a rack of them) in this process: the phone,
its control socket, and every service (ADB, console, modem, relay) that is
installed. It can run in the foreground (the CLI) or in a background
thread (test fixtures, ``harness demo``).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from harness.emulator.accounts import DEMO_ACCOUNTS, Account, AccountService, load_accounts
from harness.emulator.control import ControlServer, takes
from harness.emulator.mail_out import LmtpSender
from harness.emulator.phone import EmulatedPhone, PhoneOptions
from harness.emulator.transport_service import CommandHandler, TransportService
from harness.emulator.sms import SmsNetwork
from harness.emulator.ui import SCREENS
from harness.profiles import Profile, load_profile

#: Seconds a service's stop may take before the emulator says so on its log (a stop takes well under one).
SLOW_STOP = 2.0

@contextlib.contextmanager
def _timed(what: str) -> Iterator[None]:
    """Say on the log when stopping ``what`` took over SLOW_STOP: the one trace a stop that hangs leaves."""
    started = time.monotonic()
    try:
        yield
    finally:
        if (took := time.monotonic() - started) > SLOW_STOP:
            print(f"harness emulate: stopping {what} took {took:.1f}s", file=sys.stderr, flush=True)


#: Services attached to every handset: (module, factory, option). A factory takes
#: (phone, options) and returns a TransportService (or None when the options leave it out).
#: A service with an option is not even imported unless that option is set: the camera
#: needs OpenCV and numpy, which a handset without one must not carry (memory per handset).
PHONE_SERVICES: list[tuple[str, str, str | None]] = [
    ("harness.emulator.adb_tcp", "adb_tcp_service", None),
    ("harness.emulator.usb_gadget", "usb_gadget_service", None),
    ("harness.emulator.modem_device", "modem_service", None),
    ("harness.emulator.console_device", "console_service", None),
    ("harness.emulator.relay_device", "relay_service", None),
    ("harness.emulator.bench", "bench_service", None),  # the phone on a robot's bed: only with --robot or --camera
    ("harness.emulator.grbl_device", "robot_service", "robot"),
    ("harness.emulator.camera_device", "camera_service", "camera"),  # the bench seen from above, as MJPEG
]


@dataclass
class HostOptions:
    """Everything ``harness emulate`` can set."""

    profile: str = "lumia-930"
    phone: PhoneOptions = field(default_factory=PhoneOptions)
    accounts_file: str | None = None
    mail_dir: str | None = None
    #: ``lmtp://HOST:PORT``: the account service hands its mail to that server instead of a Maildir.
    mail_to: str | None = None
    adb_keys: list[str] = field(default_factory=list)
    adb_insecure: bool = False
    #: The handset's adbd maxdata (256 KiB as Android 7 and 8, 4096 as older devices, up to 1 MiB); it announces the
    #: smaller of this and the host's.
    adb_maxdata: int = 256 * 1024
    #: Trust the ADB keys of the user who runs the emulator (see ``harness.emulator.trust``), as a phone
    #: trusts its owner once "Allow USB debugging?" is accepted.
    trust_user_keys: bool = True
    modem_number: str | None = None
    #: Whose modem the emulated one behaves like (``harness.emulator.modem_vendors``).
    modem_vendor: str = "generic"
    #: Hears every log line of every handset (boots, screens, service events; never a secret).
    #: ``harness emulate`` writes them to stderr, which a harness-started emulator sends to emulator.log.
    log: Callable[[str], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def service_options(self) -> dict[str, Any]:
        return {"adb_keys": list(self.adb_keys), "adb_insecure": self.adb_insecure, "adb_maxdata": self.adb_maxdata,
                "trust_user_keys": self.trust_user_keys,
                "modem_number": self.modem_number, "modem_vendor": self.modem_vendor, **self.extra}


@dataclass
class RunningHandset:
    phone: EmulatedPhone
    control: ControlServer
    services: list[TransportService]
    endpoints: dict[str, Any]


def _load_factory(module: str, name: str) -> Callable[..., TransportService]:
    return getattr(importlib.import_module(module), name)


class EmulatorHost:
    """Owns the emulated world: account service, mobile network, handsets."""

    def __init__(self, options: HostOptions) -> None:
        self.options = options
        self.sms = SmsNetwork()
        accounts: list[Account] = load_accounts(options.accounts_file or DEMO_ACCOUNTS)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if options.mail_dir:
            mail_dir = Path(options.mail_dir)
            mail_dir.mkdir(parents=True, exist_ok=True)  # one Maildir per address is made inside, on delivery
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="harness-mail-")
            mail_dir = Path(self._tmp.name)
        self.mail_dir = mail_dir
        self.mail_sender: LmtpSender | None = LmtpSender(options.mail_to, log=options.log) if options.mail_to else None
        self.service = AccountService(accounts, self.sms, mail_dir, mail_to=self.mail_sender)
        if options.modem_number is None:
            first = next((a for a in accounts if a.two_step and a.phone), None)
            options.modem_number = first.phone if first else "+15550100"
        self.handsets: list[RunningHandset] = []
        # Control tokens live in a folder only this user can enter (mkdtemp makes it 0700), each file 0600.
        self._control_dir = tempfile.TemporaryDirectory(prefix="harness-control-")

    def start_handset(self, profile: Profile | str | None = None, phone_options: PhoneOptions | None = None,
                      instant_boot: bool = True) -> RunningHandset:
        profile = profile if isinstance(profile, Profile) else load_profile(profile or self.options.profile)
        phone = EmulatedPhone(profile, self.service, self.sms, phone_options or self.options.phone)
        if self.options.log is not None:  # before it starts, so the boot is in the log too
            phone.add_log_listener(self.options.log)
        token_file = Path(self._control_dir.name) / f"{phone.serial}-{len(self.handsets) + 1}.token"
        control = ControlServer(self._commands(phone), token_file=token_file)
        services: list[TransportService] = []
        endpoints: dict[str, Any] = {"profile": profile.name, "serial": phone.serial, "control": control.address,
                                     "control_token": str(token_file)}
        service_options = self.options.service_options()
        for module, name, option in PHONE_SERVICES:
            if option is not None and not service_options.get(option):
                continue
            service = _load_factory(module, name)(phone, service_options)
            if service is None:  # a service the options did not ask for
                continue
            endpoints.update(service.start())
            for cmd, handler in service.commands().items():
                control.register(cmd, handler)
            services.append(service)
        if self.mail_sender is not None:  # mail goes to a server: read it there (no local folder fills up)
            endpoints["mail_to"] = self.mail_sender.url
        else:
            endpoints["mail"] = str(self.mail_dir)
        control.start()
        phone.start(instant=instant_boot)
        running = RunningHandset(phone, control, services, endpoints)
        self.handsets.append(running)
        return running

    def stop(self) -> None:
        for running in reversed(self.handsets):
            for service in reversed(running.services):
                with _timed(type(service).__name__), contextlib.suppress(Exception):
                    service.stop()
            with _timed("the control socket"):
                running.control.stop()
            with _timed("the phone"):
                running.phone.close()
        self.handsets.clear()
        if self.mail_sender is not None:
            self.mail_sender.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self._control_dir.cleanup()

    # ------------------------------------------------------------------ control commands
    def _commands(self, phone: EmulatedPhone) -> dict[str, CommandHandler]:
        def power(req: dict[str, Any]) -> dict[str, Any]:
            if req.get("action") == "reboot":
                phone.reboot()
            elif req["on"]:
                phone.power_on()
            else:
                phone.power_off()
            return {"powered": phone.powered}

        def add_account(req: dict[str, Any]) -> dict[str, Any]:
            account = Account(address=req["address"], password=req["password"], two_step=bool(req.get("two_step")),
                              phone=req.get("phone"), email=req.get("email"))
            self.service.add(account)
            return {"account": account.public()}

        def toasts(req: dict[str, Any]) -> dict[str, Any]:
            phone.options.toasts = bool(req.get("enabled", True))
            if "interval" in req:
                phone.options.toast_interval = float(req["interval"])
            return {"toasts": phone.options.toasts}

        def animation(req: dict[str, Any]) -> dict[str, Any]:
            phone.options.animation_ms = int(req["ms"])
            return {"animation_ms": phone.options.animation_ms}

        def goto(req: dict[str, Any]) -> dict[str, Any]:
            phone.goto(req["screen"])
            return {"screen": phone.ui.screen}

        table: dict[str, tuple[str, CommandHandler]] = {
            "ping": ("", lambda req: {"serial": phone.serial, "profile": phone.profile.name}),
            "state": ("", lambda req: {"state": phone.state()}),
            "screens": ("", lambda req: {"screens": list(SCREENS)}),
            "log": ("[n=100]", lambda req: {"lines": phone.log_lines[-int(req.get("n", 100)):]}),
            "set_network": ("up", lambda req: (phone.set_network(bool(req["up"])), {"network_up": bool(req["up"])})[1]),
            "power": ("on | action=reboot", power),
            "update_os": ("[version=8.1]", lambda req: (phone.update_os(str(req.get("version", "8.1"))),
                                                        {"os_version": phone.model.os_version})[1]),
            "lab_reset": ("[os_version]", lambda req: (phone.lab_reset(req.get("os_version")),
                                                       {"os_version": phone.model.os_version})[1]),
            "install_app": ("name", lambda req: (phone.install_app(str(req["name"])), {"apps": phone.packages()})[1]),
            "theme": ("[theme] [accent]", lambda req: (phone.set_theme(req.get("theme"), req.get("accent")),
                                                       {"theme": phone.theme, "accent": phone.accent})[1]),
            "goto": ("screen", goto),
            "accounts": ("", lambda req: {"accounts": [a.public() for a in self.service.accounts.values()]}),
            "add_account": ("address password [two_step] [phone] [email]", add_account),
            "outbox": ("", lambda req: {"messages": self.sms.outbox_dicts()}),
            "mail_outbox": ("", lambda req: {"messages": list(self.service.mail_outbox), "mail_dir": str(self.mail_dir)}),
            "sms_send": ("to body [sender=+15550199] [encoding=auto|gsm7|ucs2|8bit] [ref16] [reference] [tz_quarters] "
                         "[message_class]", lambda req: {"delivered": self.sms.send(
                str(req["to"]), str(req.get("sender", "+15550199")), str(req["body"]), **_sms_options(req))}),
            "sms_delay": ("seconds", lambda req: (setattr(self.sms, "delay", max(0.0, float(req["seconds"]))),
                                                  {"sms_delay": self.sms.delay})[1]),
            "mail_deliver": ("to from subject [body]", lambda req: {"delivered": self.service.receive_mail(
                str(req["to"]), str(req["from"]), str(req["subject"]), str(req.get("body", ""))).subject}),
            "toasts": ("[enabled=true] [interval]", toasts),
            "animation": ("ms", animation),
        }
        return {name: takes(usage)(handler) for name, (usage, handler) in table.items()}


def _sms_options(req: dict[str, Any]) -> dict[str, Any]:
    """sms_send's optional fields, typed as TextMessage holds them."""
    out: dict[str, Any] = {}
    if "encoding" in req:
        out["encoding"] = str(req["encoding"])
    if "ref16" in req:
        out["ref16"] = bool(req["ref16"])
    for key in ("reference", "tz_quarters"):
        if key in req:
            out[key] = int(req[key])
    if req.get("message_class") is not None:
        out["message_class"] = int(req["message_class"])
    return out
