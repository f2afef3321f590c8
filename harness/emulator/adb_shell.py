"""The emulated handset's shell: the commands ADB clients run (input, screencap, getprop, wm, pm, ...)."""

from __future__ import annotations

import shlex
import struct
from typing import Any, Callable

from harness.emulator import screenrecord

#: Android key names ``input keyevent`` accepts besides numbers.
KEY_NAMES = {"KEYCODE_BACK": 4, "KEYCODE_HOME": 3, "KEYCODE_SEARCH": 84, "KEYCODE_POWER": 26,
             "KEYCODE_ENTER": 66, "KEYCODE_DEL": 67}


class ShellOutput:
    """What a command printed and how it ended; stdout is kept as the buffers it was given (a frame is
    sent from the panel's own buffers, not copied into one)."""

    def __init__(self) -> None:
        self.stdout: list[bytes | memoryview] = []
        self.stderr = bytearray()
        self.exit_code = 0
        self.after: Any = None  # something to do once the reply is sent (reboot)
        #: A command that streams (screenrecord): called with ``write(*parts) -> bool`` and ``closed() -> bool``
        #: once whatever it printed first is sent; it returns when it is done.
        self.streamer: Callable[[Callable[..., bool], Callable[[], bool]], None] | None = None

    def out(self, data: str | bytes | memoryview) -> None:
        self.stdout.append(data.encode() if isinstance(data, str) else data)

    @property
    def stdout_size(self) -> int:
        return sum(len(part) for part in self.stdout)

    def err(self, text: str, code: int = 1) -> None:
        self.stderr += text.encode()
        self.exit_code = code


def _int(value: str, what: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        raise ValueError(f"{what}: not a number: {value!r}") from None


def run(phone: Any, command: str) -> ShellOutput:
    """Run one shell command line against the phone."""
    out = ShellOutput()
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        out.err(f"sh: syntax error: {exc}\n", 2)
        return out
    if not argv:
        return out
    name, args = argv[0], argv[1:]
    handler = _COMMANDS.get(name)
    if handler is None:
        out.err(f"/system/bin/sh: {name}: not found\n", 127)
        return out
    try:
        handler(phone, args, out)
    except (ValueError, IndexError) as exc:
        out.err(f"{name}: {exc or 'bad arguments'}\n", 1)
    return out


def _input(phone: Any, args: list[str], out: ShellOutput) -> None:
    usage = "usage: input tap X Y | swipe X1 Y1 X2 Y2 [MS] | text TEXT | keyevent CODE"
    if not args:
        raise ValueError(usage)
    action, rest = args[0], args[1:]
    if action == "tap" and len(rest) == 2:
        phone.tap(_int(rest[0], "x"), _int(rest[1], "y"))
    elif action == "swipe" and len(rest) in (4, 5):
        values = [_int(v, "coordinate") for v in rest]
        phone.swipe(*values[:4], duration_ms=values[4] if len(values) == 5 else 300)
    elif action == "text" and rest:
        phone.text(" ".join(rest).replace("%s", " "))
    elif action == "keyevent" and rest:
        for key in rest:
            phone.keyevent(KEY_NAMES[key] if key in KEY_NAMES else _int(key, "keycode"))
    else:
        raise ValueError(usage)


def _screencap(phone: Any, args: list[str], out: ShellOutput) -> None:
    if "-p" in args:
        out.out(phone.frame_png())
        return
    width, height, parts = phone.frame_parts()
    out.out(struct.pack("<IIII", width, height, 1, 0))
    for part in parts:
        out.out(part)


def _screenrecord(phone: Any, args: list[str], out: ShellOutput) -> None:
    rec = screenrecord.parse(args)
    out.streamer = lambda write, closed: screenrecord.stream(phone, rec, write, closed)


def deliver(out: ShellOutput, stream: Any, v2: bool = False) -> None:
    """Send a command's output on a device stream: stdout and stderr (shell v2: in packets, then the exit code);
    a streaming command's output as it comes, until it ends or the host closes the stream."""
    def write(*parts: bytes | memoryview, channel: int = 1) -> bool:
        if v2 and parts:
            parts = (struct.pack("<BI", channel, sum(len(p) for p in parts)), *parts)
        return stream.write(*parts) if parts else True
    write(*out.stdout)
    if out.streamer is not None and not stream.closed:
        out.streamer(write, lambda: bool(stream.closed))
    if out.stderr:
        write(bytes(out.stderr), channel=2)
    if v2:
        stream.write(struct.pack("<BI", 3, 1) + bytes([out.exit_code & 0xFF]))


def _getprop(phone: Any, args: list[str], out: ShellOutput) -> None:
    props = phone.getprop()
    if args:
        out.out(props.get(args[0], "") + "\n")
    else:
        out.out("".join(f"[{k}]: [{v}]\n" for k, v in sorted(props.items())))


def _wm(phone: Any, args: list[str], out: ShellOutput) -> None:
    if args[:1] == ["size"]:
        out.out(f"Physical size: {phone.profile.width}x{phone.profile.height}\n")
    elif args[:1] == ["density"]:
        out.out(f"Physical density: {round(160 * phone.profile.scale)}\n")
    else:
        raise ValueError("usage: wm size | wm density")


def _pm(phone: Any, args: list[str], out: ShellOutput) -> None:
    if args[:2] != ["list", "packages"]:
        raise ValueError("usage: pm list packages")
    out.out("".join(f"package:{p}\n" for p in phone.packages()))


def _ls(phone: Any, args: list[str], out: ShellOutput) -> None:
    path = next((a for a in args if not a.startswith("-")), "/")
    st = phone.fs.stat(path)
    if st is None:
        out.err(f"ls: {path}: No such file or directory\n")
    elif st.is_dir:
        out.out("".join(name + "\n" for name, _ in phone.fs.listdir(path)))
    else:
        out.out(path + "\n")


def _cat(phone: Any, args: list[str], out: ShellOutput) -> None:
    for path in args:
        try:
            out.out(phone.fs.read(path))
        except (FileNotFoundError, IsADirectoryError) as exc:
            out.err(f"cat: {path}: {type(exc).__name__}\n")


def _rm(phone: Any, args: list[str], out: ShellOutput) -> None:
    for path in (a for a in args if not a.startswith("-")):
        try:
            phone.fs.remove(path)
        except FileNotFoundError:
            out.err(f"rm: {path}: No such file or directory\n")


def _reboot(phone: Any, args: list[str], out: ShellOutput) -> None:
    out.after = phone.reboot


_COMMANDS = {
    "input": _input, "screencap": _screencap, "screenrecord": _screenrecord, "getprop": _getprop, "wm": _wm, "pm": _pm,
    "echo": lambda phone, args, out: out.out(" ".join(args) + "\n"),
    "dumpsys": lambda phone, args, out: out.out(phone.dumpsys(args[0] if args else "")),
    "ls": _ls, "cat": _cat, "rm": _rm, "reboot": _reboot,
    "true": lambda phone, args, out: None,
    "false": lambda phone, args, out: setattr(out, "exit_code", 1),
}
