"""One emulated handset: UI, power, input, lab-side changes and identity.

Its panel (pixels, page turns, toasts) is ``display``, its log ``phone_log``
and its settings ``phone_options``. Transports (ADB, console, modem, relay)
attach to this object inside the emulator process; tests and drivers reach it
only through those transports.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from PIL import Image

from harness.emulator.accounts import AccountService
from harness.emulator.app_pages import pages as _app_pages
from harness.emulator.web_pages import pages as _web_pages
from harness.emulator.display import TOAST_HEIGHT_VIEW, Display, Frame
from harness.emulator.filesystem import FileSystem
from harness.emulator.phone_log import PhoneLog
from harness.emulator.phone_options import PhoneOptions
from harness.emulator.scheduler import Scheduler
from harness.emulator.sms import SmsNetwork
from harness.emulator.ui import SCREENS, PhoneModel, PhoneUI
from harness.profiles import ACCENTS, Profile, hex_rgb

#: Android key codes the phone understands (what ``input keyevent`` sends).
KEY_BACK, KEY_HOME, KEY_SEARCH, KEY_POWER, KEY_ENTER, KEY_DEL = 4, 3, 84, 26, 66, 67
APP_SCREENS = (*_app_pages(), *_web_pages())
_AFTER_SETUP = {"start", "app_list", "settings", "settings_applications", "email_accounts", "add_account", "one_account_only",
                "outlook_signin", "account_settings", "backup", "about", "reset_confirm", "phone_update",
                "sign_in_again"} | set(APP_SCREENS)

__all__ = ["EmulatedPhone", "PhoneOptions", "KEY_BACK", "KEY_HOME", "KEY_SEARCH", "KEY_POWER", "KEY_ENTER", "KEY_DEL"]


class EmulatedPhone:
    """A Windows Phone 8.1 handset in software."""

    def __init__(self, profile: Profile, service: AccountService, sms: SmsNetwork,
                 options: PhoneOptions | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        """``clock`` times the panel's page turns and toasts (a test steps its own); UI delays run in real time."""
        self.options = options = options or PhoneOptions()
        self.profile = profile
        self.serial = options.serial or profile.make_serial(0x1000 + options.index)
        self.sms = sms
        self.service = service
        self.fs = FileSystem()
        self.theme = options.theme or profile.theme
        self.accent = options.accent or profile.accent
        if self.theme not in ("dark", "light"):
            raise ValueError(f"theme must be dark or light, got {self.theme!r}")
        if self.accent not in ACCENTS:
            raise ValueError(f"unknown accent {self.accent!r}")
        self.model = PhoneModel(serial=self.serial, os_version=options.os_version or profile.os_version)
        self._lock = threading.RLock()
        self._scheduler = Scheduler(f"phone-{self.serial}")
        self._power_epoch = 0
        self._log = PhoneLog(self.serial)
        self.ui = PhoneUI(self.model, service, self.fs, self._schedule_ui, self._log,
                          signin_delay=options.signin_delay, sync_delay=options.sync_delay)
        self.ui.restart = self._restart_later  # type: ignore[method-assign]
        self.display = Display(profile.width, profile.height, profile.scale, self.theme, hex_rgb(ACCENTS[self.accent]),
                               options, clock)
        self.powered = False
        self.booted = False
        self.display_on = True
        self._power_listeners: list[Callable[[bool], None]] = []
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    def start(self, instant: bool = False) -> None:
        """Power on; ``instant`` skips the boot delay (and --screen applies then)."""
        self.power_on(instant=instant)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._power_epoch += 1
        self._scheduler.stop()
        self._log.close()

    # ------------------------------------------------------------------ listeners and log
    def add_power_listener(self, cb: Callable[[bool], None]) -> None:
        """``cb(False)`` when power goes off; ``cb(True)`` when a boot finishes, before ``booted`` turns true.

        So whoever sees the phone booted also finds what the listeners start (adbd listening) already up,
        and the calls come in the order power changed (a quick reboot never ends with a service up while off).
        A listener runs on the phone's own thread: it must be quick and must not wait for another thread."""
        self._power_listeners.append(cb)

    def add_log_listener(self, cb: Callable[[str], None]) -> None:
        """Handset log lines as they happen (never a password or access code)."""
        self._log.add_listener(cb)

    @property
    def log_lines(self) -> list[str]:
        """The most recent log lines (the control socket's ``log``)."""
        return self._log.lines

    def _notify_power(self, state: bool) -> None:
        for cb in list(self._power_listeners):
            try:
                cb(state)
            except Exception as exc:  # one transport failing must not keep the others off; say so in the log
                self._log(f"power: a transport did not follow power {'on' if state else 'off'}: {exc}")

    # ------------------------------------------------------------------ time
    def _schedule_ui(self, delay: float, fn: Callable[[], None]) -> None:
        epoch = self._power_epoch

        def run() -> None:
            with self._lock:
                if epoch != self._power_epoch or self._closed:
                    return
                self._change(fn)
        self._scheduler.call_later(delay, run)

    def _change(self, fn: Callable[[], None]) -> None:
        """Apply a UI change; start a transition animation when the screen changes."""
        before_gen, before_page = self.ui.generation, None
        if self.options.animation_ms > 0 and self.powered and self.booted:
            before_page = self.ui.page(self.profile.view_height)
        fn()
        if self.ui.generation != before_gen and before_page is not None and before_page.name != self.ui.screen:
            self.display.turn_from(before_page)

    def animating(self) -> bool:
        with self._lock:
            return self.display.animating()

    # ------------------------------------------------------------------ power
    def power_off(self) -> None:
        with self._lock:
            if not self.powered:
                return
            self.powered = False
            self.booted = False
            self._power_epoch += 1
            self.display.stop_turning()
            self._log("power: off")
        self._notify_power(False)

    def power_on(self, instant: bool = False) -> None:
        with self._lock:
            if self.powered:
                return
            self.powered = True
            self.booted = False
            self.display_on = True
            self._power_epoch += 1
            self.ui.history.clear()
            self.ui.screen = "booting"
            self.ui.generation += 1
            p = self.profile
            lines = [f"boot: {p.manufacturer} {p.model} powering on", "boot: UEFI firmware 2.3.1 started",
                     f"boot: serial number {self.serial}",
                     f"boot: panel {p.width}x{p.height} scale {p.scale:g}",
                     f"boot: Windows Phone {self.model.os_version} kernel loaded",
                     "boot: mounting data partition", "boot: starting shell"]
        total = 0.0 if instant else self.options.boot_time
        if not instant:
            for i, line in enumerate(lines):
                self._schedule_ui(total * i / (len(lines) + 1), lambda line=line: self._log(line))
        if instant:
            with self._lock:
                for line in lines:
                    self._log(line)
                self._finish_boot(apply_start_screen=True)
        else:
            self._schedule_ui(total, lambda: self._finish_boot(apply_start_screen=False))

    def _finish_boot(self, apply_start_screen: bool) -> None:
        """Under the lock: the home screen, then the listeners (services up), and only then ``booted``."""
        self._log("boot: complete")
        start = self.options.start_screen if apply_start_screen else None
        if start:
            self._jump_to(start)
        else:
            self.ui.home()
        self.display.stop_turning()
        self._notify_power(True)
        self.booted = True

    def reboot(self) -> None:
        """Restart: everything disconnects, then the phone boots again."""
        self._log("power: reboot requested")
        self.power_off()
        self.power_on()

    def _restart_later(self) -> None:
        # Called from inside a UI transition (reset, update): restart outside the lock.
        self._scheduler.call_later(0.05, self.reboot)

    def _jump_to(self, screen: str) -> None:
        """``--screen NAME``: set up plausible state and show that screen (debug aid)."""
        if screen not in SCREENS:
            raise ValueError(f"unknown screen {screen!r}: not one of the {len(SCREENS)} pages of the page table")
        accounts = list(self.service.accounts.values())
        two_step = next((a for a in accounts if a.two_step), accounts[0] if accounts else None)
        if screen in _AFTER_SETUP:
            self.model.setup_complete = True
        if screen in ("sign_in_again", "account_settings", "one_account_only") and two_step:
            self.model.ms_account = two_step.address
            self.model.ms_needs_reauth = screen == "sign_in_again"
        address = two_step.address if two_step else ""
        purpose = "settings" if self.model.setup_complete else "setup"
        self.ui.go(screen, push=False, address=address, purpose=purpose, retry="account_email", sent_to="")

    # ------------------------------------------------------------------ input
    def _accepting_input(self) -> bool:
        return self.powered and self.booted and self.display_on and not self.animating()

    def tap(self, x: float, y: float) -> None:
        """A finger at device pixel (x, y); a tap on nothing does nothing."""
        with self._lock:
            if not self._accepting_input():
                return
            vx, vy = x / self.profile.scale, y / self.profile.scale
            if self.display.current_toast() is not None and vy < TOAST_HEIGHT_VIEW:
                self.display.dismiss_toast()  # a tap on a toast dismisses it
                return
            widget = self.ui.page(self.profile.view_height).hit(vx, vy)
            if widget is not None and widget.id:
                self._change(lambda: self.ui.tap(widget.id))  # type: ignore[arg-type]

    def swipe(self, x1: float, y1: float, x2: float, y2: float, duration_ms: int = 300) -> None:
        with self._lock:
            if not self._accepting_input():
                return
            dx, dy = (x2 - x1) / self.profile.scale, (y2 - y1) / self.profile.scale
            if abs(dx) < 10 and abs(dy) < 10:
                self.tap(x1, y1)
                return
            self._change(lambda: self.ui.swipe(dx, dy))

    def text(self, text: str) -> None:
        with self._lock:
            if self._accepting_input():
                self.ui.text(text)

    def keyevent(self, code: int) -> None:
        """Android key codes: 4 back, 3 start, 84 search, 26 power, 66 enter, 67 delete."""
        with self._lock:
            if not (self.powered and self.booted):
                return
            if code == KEY_POWER:
                self.display_on = not self.display_on
                self._log(f"power: display {'on' if self.display_on else 'off'}")
                return
            if not self._accepting_input():
                return
            action = {KEY_BACK: self.ui.back, KEY_HOME: self.ui.start_key, KEY_ENTER: self.ui.enter,
                      KEY_DEL: self.ui.delete}.get(code)
            if code == KEY_SEARCH:
                self._log("input: search key (no search app on this handset)")
            if action is not None:
                self._change(action)

    # ------------------------------------------------------------------ lab-side state changes
    def set_network(self, up: bool) -> None:
        with self._lock:
            self.model.network_up = up
            self._log(f"network: {'up' if up else 'down'}")

    def update_os(self, version: str) -> None:
        with self._lock:
            self._change(lambda: self.ui.update_os(version))

    def lab_reset(self, os_version: str | None = None) -> None:
        """What a lab does between test runs: re-flash (wipe, chosen OS version, cloud backup gone) and boot."""
        with self._lock:
            self.service.forget_backups(self.serial)
            self.model.network_up = True
            if os_version:
                if os_version not in ("8.0", "8.1"):
                    raise ValueError(f"unknown OS version {os_version!r}")
                self.model.os_version = os_version
            self._log(f"lab: re-flashed with Windows Phone {self.model.os_version}")
            restart, self.ui.restart = self.ui.restart, (lambda: None)  # type: ignore[method-assign]
            try:
                self.ui.factory_reset()
            finally:
                self.ui.restart = restart  # type: ignore[method-assign]
        self.reboot()  # off now (every connection drops before this returns), then boots

    def install_app(self, name: str) -> None:
        with self._lock:
            if name not in self.model.apps:
                self.model.apps.append(name)
                self._log(f"apps: installed {name}")

    def packages(self) -> list[str]:
        with self._lock:
            from harness.emulator.pages import SYSTEM_APPS
            return sorted(set(SYSTEM_APPS) | set(self.model.apps))

    def set_theme(self, theme: str | None = None, accent: str | None = None) -> None:
        with self._lock:
            self.theme = theme or self.theme
            self.accent = accent or self.accent
            self.display.set_theme(self.theme, hex_rgb(ACCENTS[self.accent]))

    def goto(self, screen: str) -> None:
        with self._lock:
            self._change(lambda: self._jump_to(screen))

    # ------------------------------------------------------------------ pixels
    def _frame(self) -> Frame:
        with self._lock:
            if not self.powered or not self.display_on:
                return self.display.black()
            return self.display.frame(self.ui.page(self.profile.view_height))

    def frame(self) -> Image.Image:
        """The current frame (RGB, panel resolution): page turn, toast and clock included."""
        return self._frame().image()

    def frame_rgba(self) -> tuple[int, int, bytes]:
        """Width, height and RGBA8888 bytes of the current frame (one copy; ``frame_parts`` makes none)."""
        frame = self._frame()
        return frame.width, frame.height, frame.rgba()

    def frame_parts(self) -> tuple[int, int, tuple[bytes | memoryview, ...]]:
        """Width, height and the buffers that make up the RGBA8888 frame, in order (what screencap sends)."""
        frame = self._frame()
        return frame.width, frame.height, frame.parts

    def panel(self) -> Frame:
        """The panel's current frame object: the same object while the screen stays still (screenrecord
        sends a frame only when this changes)."""
        return self._frame()

    def frame_png(self) -> bytes:
        """The current frame as PNG (what ``screencap -p`` sends)."""
        return self._frame().png()

    # ------------------------------------------------------------------ identity
    def getprop(self) -> dict[str, str]:
        p = self.profile
        return {
            "ro.product.name": p.name, "ro.product.model": p.model, "ro.product.device": p.name,
            "ro.product.manufacturer": p.manufacturer, "ro.serialno": self.serial,
            "ro.build.version.release": self.model.os_version,
            "ro.build.display.id": f"Windows Phone {self.model.os_version}",
            "ro.sf.lcd_density": str(round(160 * p.scale)),
            "persist.sys.theme": self.theme, "persist.sys.accent": self.accent,
        }

    def dumpsys(self, service: str) -> str:
        """``dumpsys account``: the accounts on the phone and their sync state, as a shell prints it."""
        if service != "account":
            return f"Can't find service: {service}\n"
        with self._lock:
            m = self.model
            lines = [f"Accounts: {int(bool(m.ms_account)) + len(m.outlook)}"]
            if m.ms_account:
                state = "sign in again" if m.ms_needs_reauth else "ok"
                lines.append(f"  Account {{name={m.ms_account}, type=microsoft, state={state}}}")
                lines += [f"    {category}: {status}" for category, status in m.sync.items()]
            for address, needs in m.outlook.items():
                lines.append(f"  Account {{name={address}, type=outlook, state={'attention required' if needs else 'ok'}}}")
            return "\n".join(lines) + "\n"

    def state(self) -> dict[str, Any]:
        """Everything a test of the emulator itself may assert on (no secrets)."""
        with self._lock:
            ui, m = self.ui, self.model
            fields = {k: ("•" * len(v) if k in ("password", "code") else v) for k, v in ui.fields.items()}
            return {
                "serial": self.serial, "profile": self.profile.name, "screen": ui.screen,
                "powered": self.powered, "booted": self.booted, "display_on": self.display_on,
                "animating": self.animating(), "theme": self.theme, "accent": self.accent,
                "os_version": m.os_version, "setup_complete": m.setup_complete, "ms_account": m.ms_account,
                "ms_needs_reauth": m.ms_needs_reauth, "outlook": dict(m.outlook), "sync": dict(m.sync),
                "apps": list(m.apps), "network_up": m.network_up, "fields": fields, "focus": ui.focus,
                "choice": ui.choice, "error": ui.error, "last_backup": m.last_backup,
            }
