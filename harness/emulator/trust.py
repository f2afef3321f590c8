"""Which ADB keys an emulated handset trusts: its own user's by default, and the keys it is given.

A real phone asks its owner once ("Allow USB debugging?") and remembers the
host's key. The emulator is started by a user on their own machine, so it
trusts that user's keys from the start: the harness's own (``$HARNESS_ADB_KEY``,
else ``~/.android/adbkey``) and the one Debian's ``adb`` makes
(``~/.android/adbkey``, or under ``$ANDROID_USER_HOME`` / ``$ANDROID_SDK_HOME``).
Those files are read each time a host authenticates, not once at start, so a
key first made after the emulator started (the user's first ``adb`` or
``harness`` run) is trusted too. ``--adb-key`` adds other keys; authentication
stays on, and any other key is refused.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Mapping

from cryptography.hazmat.primitives.asymmetric import rsa

from harness.adb.auth import decode_public_key, verify_signature
from harness.adb.errors import AdbError
from harness.errors import ConfigError

#: The most an adbkey.pub file may hold (one key is about 720 bytes).
MAX_KEY_FILE = 64 * 1024


def user_key_files(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The public-key files of the user running this process, as the harness and Debian's adb name them."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    files = []
    if env.get("HARNESS_ADB_KEY"):
        files.append(Path(env["HARNESS_ADB_KEY"] + ".pub"))
    if env.get("ANDROID_USER_HOME"):
        files.append(Path(env["ANDROID_USER_HOME"]) / "adbkey.pub")
    elif env.get("ANDROID_SDK_HOME"):
        files.append(Path(env["ANDROID_SDK_HOME"]) / ".android" / "adbkey.pub")
    files.append(home / ".android" / "adbkey.pub")
    return list(dict.fromkeys(files))


def _read_keys(path: Path) -> list[rsa.RSAPublicKey]:
    """Every key in an adbkey.pub-style file (one per line); a one-line error naming the file otherwise."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_KEY_FILE + 1)
    if len(data) > MAX_KEY_FILE:
        raise ConfigError(f"{path}: more than {MAX_KEY_FILE} bytes; not an adbkey.pub file")
    keys = []
    for number, line in enumerate(data.splitlines(), 1):
        if line.strip():
            try:
                keys.append(decode_public_key(line))
            except AdbError as exc:
                raise ConfigError(f"{path}:{number}: not an ADB public key ({exc})") from None
    return keys


class KeyStore:
    """The public keys this handset trusts: fixed ones, and files re-read whenever they change."""

    def __init__(self, insecure: bool = False) -> None:
        self.insecure = insecure
        self._keys: list[rsa.RSAPublicKey] = []
        self._watched: dict[Path, tuple[tuple[int, int, int] | None, list[rsa.RSAPublicKey]]] = {}
        self._lock = threading.Lock()

    def add(self, encoded: bytes) -> None:
        key = decode_public_key(encoded)
        with self._lock:
            self._keys.append(key)

    def add_file(self, path: str | Path) -> None:
        """Trust the keys in ``path`` now (``--adb-key``): a missing or bad file is an error at start."""
        try:
            keys = _read_keys(Path(path))
        except OSError as exc:
            raise ConfigError(f"--adb-key {path}: {exc.strerror or exc}") from None
        with self._lock:
            self._keys.extend(keys)

    def watch_file(self, path: str | Path) -> None:
        """Trust whatever keys ``path`` holds each time a host authenticates (absent: none)."""
        with self._lock:
            self._watched.setdefault(Path(path), (None, []))

    def _current(self) -> list[rsa.RSAPublicKey]:
        with self._lock:
            keys = list(self._keys)
            for path, (stamp, held) in list(self._watched.items()):
                try:
                    st = path.stat()
                    now: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
                except OSError:
                    now = None
                if now != stamp:
                    try:
                        held = _read_keys(path) if now is not None else []
                    except (OSError, ConfigError):
                        held = []  # unreadable or not a key file: trust nothing from it
                    self._watched[path] = (now, held)
                keys += held
        return keys

    def trusts_signature(self, token: bytes, signature: bytes) -> bool:
        return any(verify_signature(k, token, signature) for k in self._current())

    def trusts_key(self, encoded: bytes) -> bool:
        if self.insecure:
            return True
        try:
            key = decode_public_key(encoded).public_numbers()
        except AdbError:
            return False
        return any(k.public_numbers() == key for k in self._current())


def keystore_for(options: Mapping[str, Any]) -> KeyStore:
    """The key store an ADB service of the emulator host uses, from the host's service options."""
    keys = KeyStore(insecure=bool(options.get("adb_insecure")))
    for path in options.get("adb_keys") or []:
        keys.add_file(path)
    if options.get("trust_user_keys", True):
        for path in user_key_files():
            keys.watch_file(path)
    return keys
