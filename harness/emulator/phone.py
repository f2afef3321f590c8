"""One emulated handset: UI, pixels, power, time, files and its log.

Transports (ADB, console, modem, relay) attach to this object inside the
emulator process; tests and drivers reach it only through those transports.
"""

from __future__ import annotations

import io
import queue
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from PIL import Image

from harness.emulator.accounts import AccountService
from harness.emulator.filesystem import FileSystem
from harness.emulator.layout import Page
from harness.emulator.renderer import Renderer
from harness.emulator.scheduler import Scheduler
from harness.emulator.sms import SmsNetwork
from harness.emulator.ui import SCREENS, PhoneModel, PhoneUI
from harness.profiles import ACCENTS, Profile, hex_rgb

#: Android key codes the phone understands (what ``input keyevent`` sends).
KEY_BACK, KEY_HOME, KEY_SEARCH, KEY_POWER, KEY_ENTER, KEY_DEL = 4, 3, 84, 26, 66, 67
TOAST_HEIGHT_VIEW = 64
_TOASTS = [("Messaging", "New message from +1 555 0199"), ("Store", "3 app updates are ready"),
           ("Outlook", "You have 2 new emails"), ("Calendar", "Team meeting in 15 minutes")]

_AFTER_SETUP = {"start", "app_list", "settings", "email_accounts", "add_account", "one_account_only",
                "outlook_signin", "account_settings", "backup", "about", "reset_confirm", "phone_update",
                "sign_in_again"}


@dataclass
class PhoneOptions:
    """How an emulated handset behaves; every field has a CLI flag on ``harness emulate``."""

    theme: str | None = None
    accent: str | None = None
    os_version: str | None = None
    animation_ms: int = 250
    toasts: bool = False
    toast_seed: int | None = None
    toast_interval: float = 6.0
    toast_duration: float = 1.5
    signin_delay: float = 0.8
    sync_delay: float = 1.5
    boot_time: float = 1.5
    start_screen: str | None = None
    serial: str | None = None
    index: int = 0
    font: str | None = None  # a TrueType file every text is drawn with (None: the bundled font)


def _ease(t: float) -> float:
    return 1 - (1 - t) ** 3


class EmulatedPhone:
    """A Windows Phone 8.1 handset in software."""

    def __init__(self, profile: Profile, service: AccountService, sms: SmsNetwork,
                 options: PhoneOptions | None = None) -> None:
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
        self.ui = PhoneUI(self.model, service, self.fs, self._schedule_ui, self._log,
                          signin_delay=options.signin_delay, sync_delay=options.sync_delay)
        self.ui.restart = self._restart_later  # type: ignore[method-assign]
        self.renderer = Renderer(profile.width, profile.height, profile.scale, self.theme, hex_rgb(ACCENTS[self.accent]),
                                 font=options.font)
        self.powered = False
        self.booted = False
        self.display_on = True
        self._anim_from: Page | None = None
        self._anim_start = 0.0
        self._rng = random.Random(options.toast_seed)
        self._next_toast = time.monotonic() + self._rng.expovariate(1 / options.toast_interval)
        self._toast: tuple[float, tuple[str, str]] | None = None
        self._frame_cache: tuple[tuple, Image.Image, bytes | None, bytes | None] | None = None
        self._power_listeners: list[Callable[[bool], None]] = []
        self._log_listeners: list[Callable[[str], None]] = []
        self.log_lines: list[str] = []
        self._log_queue: queue.Queue[str | None] = queue.Queue()
        self._log_thread = threading.Thread(target=self._dispatch_logs, name=f"log-{self.serial}", daemon=True)
        self._log_thread.start()
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
        self._log_queue.put(None)

    # ------------------------------------------------------------------ listeners and log
    def add_power_listener(self, cb: Callable[[bool], None]) -> None:
        """``cb(False)`` when power goes off, ``cb(True)`` once a boot has finished."""
        self._power_listeners.append(cb)

    def add_log_listener(self, cb: Callable[[str], None]) -> None:
        """Handset log lines as they happen (never a password or access code)."""
        self._log_listeners.append(cb)

    def _log(self, line: str) -> None:
        stamped = f"{time.strftime('%H:%M:%S')} {line}"
        self.log_lines.append(stamped)
        del self.log_lines[:-500]
        self._log_queue.put(stamped)

    def _dispatch_logs(self) -> None:
        while (line := self._log_queue.get()) is not None:
            for cb in list(self._log_listeners):
                try:
                    cb(line)
                except Exception:
                    pass

    def _notify_power(self, state: bool) -> None:
        for cb in list(self._power_listeners):
            try:
                cb(state)
            except Exception:
                pass

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
            self._anim_from = before_page
            self._anim_start = time.monotonic()

    def animating(self) -> bool:
        with self._lock:
            return self._anim_from is not None and (time.monotonic() - self._anim_start) * 1000 < self.options.animation_ms

    # ------------------------------------------------------------------ power
    def power_off(self) -> None:
        with self._lock:
            if not self.powered:
                return
            self.powered = False
            self.booted = False
            self._power_epoch += 1
            self._anim_from = None
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
            self._notify_power(True)
        else:
            self._schedule_ui(total, self._boot_done)

    def _boot_done(self) -> None:
        self._finish_boot(apply_start_screen=False)
        threading.Thread(target=self._notify_power, args=(True,), daemon=True).start()

    def _finish_boot(self, apply_start_screen: bool) -> None:
        self.booted = True
        self._log("boot: complete")
        start = self.options.start_screen if apply_start_screen else None
        if start:
            self._jump_to(start)
        else:
            self.ui.home()
        self._anim_from = None

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
            raise ValueError(f"unknown screen {screen!r} (see harness emulate --list-screens)")
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
            if self._current_toast() is not None and vy < TOAST_HEIGHT_VIEW:
                self._toast = None  # a tap on a toast dismisses it
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
            self.service.backups.pop(self.serial, None)
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
            from harness.emulator.ui import SYSTEM_APPS
            return sorted(set(SYSTEM_APPS) | set(self.model.apps))

    def set_theme(self, theme: str | None = None, accent: str | None = None) -> None:
        with self._lock:
            self.theme = theme or self.theme
            self.accent = accent or self.accent
            self.renderer.set_theme(self.theme, hex_rgb(ACCENTS[self.accent]))
            self._frame_cache = None

    def goto(self, screen: str) -> None:
        with self._lock:
            self._change(lambda: self._jump_to(screen))

    # ------------------------------------------------------------------ pixels
    def _current_toast(self) -> tuple[str, str] | None:
        if not self.options.toasts:
            return None
        now = time.monotonic()
        if self._toast is not None and now < self._toast[0]:
            return self._toast[1]
        self._toast = None
        if now >= self._next_toast:
            until = now + self.options.toast_duration
            self._toast = (until, self._rng.choice(_TOASTS))
            self._next_toast = until + self._rng.expovariate(1 / self.options.toast_interval)
            return self._toast[1]
        return None

    def frame(self) -> Image.Image:
        """The current frame (RGB, panel resolution): animation, toast and clock included."""
        return self._frame()[1]

    def _frame(self) -> tuple[tuple, Image.Image, bytes | None, bytes | None]:
        with self._lock:
            if not self.powered or not self.display_on:
                key: tuple = ("black",)
                if self._frame_cache is None or self._frame_cache[0] != key:
                    self._frame_cache = (key, self.renderer.black(), None, None)
                return self._frame_cache
            page = self.ui.page(self.profile.view_height)
            base = self.renderer.page(page)
            progress = 1.0
            if self._anim_from is not None:
                progress = (time.monotonic() - self._anim_start) * 1000 / max(1, self.options.animation_ms)
                if progress >= 1.0:
                    self._anim_from = None
                    progress = 1.0
            toast = self._current_toast()
            clock = time.strftime("%H:%M")
            if progress < 1.0:
                assert self._anim_from is not None
                base = self._transition(self.renderer.page(self._anim_from), base, _ease(progress))
                key = ("anim", time.monotonic())
            else:
                key = (page.key(), clock, toast)
            if self._frame_cache is not None and self._frame_cache[0] == key:
                return self._frame_cache
            image = self.renderer.decorate(base, clock, toast, status_bar=page.name != "booting")
            self._frame_cache = (key, image, None, None)
            return self._frame_cache

    def _transition(self, old: Image.Image, new: Image.Image, t: float) -> Image.Image:
        """Windows Phone's page turn, simplified: the new page slides in and fades up."""
        w, h = new.size
        shifted = Image.new("RGB", (w, h), self.renderer.palette.background)
        shifted.paste(new, (int((1 - t) * w * 0.25), 0))
        return Image.blend(old, shifted, t)

    def frame_rgba(self) -> tuple[int, int, bytes]:
        """Width, height and RGBA8888 bytes of the current frame (what screencap sends)."""
        key, image, rgba, png = self._frame()
        if rgba is None:
            rgba = image.convert("RGBA").tobytes()
            with self._lock:
                if self._frame_cache is not None and self._frame_cache[0] == key:
                    self._frame_cache = (key, image, rgba, self._frame_cache[3])
        return image.width, image.height, rgba

    def frame_png(self) -> bytes:
        """The current frame as PNG (what ``screencap -p`` sends)."""
        key, image, rgba, png = self._frame()
        if png is None:
            buf = io.BytesIO()
            image.save(buf, format="PNG", compress_level=1)
            png = buf.getvalue()
            with self._lock:
                if self._frame_cache is not None and self._frame_cache[0] == key:
                    self._frame_cache = (key, image, self._frame_cache[2], png)
        return png

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
