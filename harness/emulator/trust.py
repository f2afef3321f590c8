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

import base64
import binascii
import os
import struct
import threading
from pathlib import Path
from typing import Any, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from harness.errors import ConfigError

#: The most an adbkey.pub file may hold (one key is about 720 bytes).
MAX_KEY_FILE = 64 * 1024
#: adbd takes 2048-bit keys only: the struct holds 64 words of modulus.
MODULUS_WORDS = 64
_KEY_STRUCT_SIZE = 4 + 4 + 4 * MODULUS_WORDS * 2 + 4


class KeyRefused(ValueError):
    """Bytes that are not an ADB public key; says what is wrong with them."""


def decode_adb_key(encoded: bytes) -> rsa.RSAPublicKey:
    """The key in adb's text form: base64 of the RSAPublicKey struct, then an optional " user@host".

    The struct (little-endian): uint32 len (modulus words), uint32 n0inv, n as len words,
    rr (R^2 mod n) as len words, uint32 exponent. Like adbd, only len, n and the exponent are used.
    """
    text = encoded.rstrip(b"\0").strip().split(b" ", 1)[0]
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyRefused("not base64") from None
    if len(blob) != _KEY_STRUCT_SIZE:
        raise KeyRefused(f"key struct of {len(blob)} bytes, expected {_KEY_STRUCT_SIZE}")
    (words,) = struct.unpack_from("<I", blob, 0)
    if words != MODULUS_WORDS:
        raise KeyRefused(f"modulus of {words} words, expected {MODULUS_WORDS}")
    modulus = int.from_bytes(blob[8:8 + 4 * words], "little")
    (exponent,) = struct.unpack_from("<I", blob, 8 + 8 * words)
    try:
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except ValueError as exc:
        raise KeyRefused(f"not a valid RSA key ({exc})") from None


def signed_by(key: rsa.RSAPublicKey, token: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the PKCS#1 v1.5 signature of the token taken as a SHA-1 digest (adbd's check)."""
    try:
        key.verify(signature, token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))
    except (InvalidSignature, ValueError):
        return False
    return True


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
        raise ConfigError(path, "keys", f"more than {MAX_KEY_FILE} bytes; not an adbkey.pub file")
    keys = []
    for number, line in enumerate(data.splitlines(), 1):
        if line.strip():
            try:
                keys.append(decode_adb_key(line))
            except KeyRefused as exc:
                raise ConfigError(path, f"line {number}", f"not an ADB public key ({exc})") from None
    return keys


class KeyStore:
    """The public keys this handset trusts: fixed ones, and files re-read whenever they change."""

    def __init__(self, insecure: bool = False) -> None:
        self.insecure = insecure
        self._keys: list[rsa.RSAPublicKey] = []
        self._watched: dict[Path, tuple[tuple[int, int, int] | None, list[rsa.RSAPublicKey]]] = {}
        self._lock = threading.Lock()

    def add(self, encoded: bytes) -> None:
        key = decode_adb_key(encoded)
        with self._lock:
            self._keys.append(key)

    def add_file(self, path: str | Path) -> None:
        """Trust the keys in ``path`` now (``--adb-key``): a missing or bad file is an error at start."""
        try:
            keys = _read_keys(Path(path))
        except OSError as exc:
            raise ConfigError(path, "keys to trust", str(exc.strerror or exc)) from None
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
        return any(signed_by(k, token, signature) for k in self._current())

    def trusts_key(self, encoded: bytes) -> bool:
        if self.insecure:
            return True
        try:
            key = decode_adb_key(encoded).public_numbers()
        except KeyRefused:
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
