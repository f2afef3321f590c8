"""ADB's RSA authentication: the key file, signing the token, and adb's public-key encoding."""

from __future__ import annotations

import base64
import getpass
import os
import socket
import struct
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from harness.adb.protocol import AdbError

KEY_BITS = 2048
_WORDS = KEY_BITS // 32


def default_key_path() -> Path:
    """``$HARNESS_ADB_KEY``, else ``~/.android/adbkey`` like the adb tool itself."""
    return Path(os.environ.get("HARNESS_ADB_KEY") or Path.home() / ".android" / "adbkey")


def _user() -> str:
    """Who we are, for the key's comment; a uid with no passwd entry (a container's) is named by its number."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}"


def encode_public_key(key: rsa.RSAPublicKey, comment: str | None = None) -> bytes:
    """adb's RSAPUBLICKEY payload: base64 of (len, n0inv, n LE, rr LE, e) plus ' user@host'."""
    numbers = key.public_numbers()
    n, e = numbers.n, numbers.e
    n0inv = (-pow(n, -1, 1 << 32)) & 0xFFFFFFFF
    rr = pow(2, KEY_BITS * 2, n)
    blob = struct.pack("<II", _WORDS, n0inv) + n.to_bytes(KEY_BITS // 8, "little") + rr.to_bytes(KEY_BITS // 8, "little") + struct.pack("<I", e)
    comment = comment if comment is not None else f"{_user()}@{socket.gethostname()}"
    return base64.b64encode(blob) + b" " + comment.encode()


def decode_public_key(payload: bytes) -> rsa.RSAPublicKey:
    """Parse adb's encoding (as in adbkey.pub or an RSAPUBLICKEY payload)."""
    text = payload.rstrip(b"\0").strip().split(b" ", 1)[0]
    try:
        blob = base64.b64decode(text, validate=True)
    except ValueError:
        raise AdbError("public key is not base64") from None
    if len(blob) != 8 + KEY_BITS // 4 + 4:
        raise AdbError(f"public key struct is {len(blob)} bytes, expected {8 + KEY_BITS // 4 + 4}")
    words, _ = struct.unpack_from("<II", blob)
    if words != _WORDS:
        raise AdbError(f"public key has {words} words, expected {_WORDS}")
    n = int.from_bytes(blob[8:8 + KEY_BITS // 8], "little")
    (e,) = struct.unpack_from("<I", blob, 8 + KEY_BITS // 4)
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise AdbError(f"public key is not a valid RSA key: {exc}") from None


def load_or_create_key(path: str | Path | None = None) -> rsa.RSAPrivateKey:
    """Load the private key at ``path`` (PEM), generating it and ``path.pub`` on first use."""
    path = Path(path or default_key_path())
    try:
        return _load_or_create(path)
    except OSError as exc:  # an unwritable home, a key file of another user: one line, not a traceback
        where = exc.filename or path
        raise AdbError(f"cannot read or create our ADB key {path} ({where}: {exc.strerror or exc}); "
                       "set HARNESS_ADB_KEY to a key file you can write") from None


def _load_or_create(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as exc:
            raise AdbError(f"{path}: not a PEM RSA private key ({exc})") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise AdbError(f"{path}: not an RSA key")
        pub = path.with_name(path.name + ".pub")
        if not pub.exists():
            pub.write_bytes(encode_public_key(key.public_key()) + b"\n")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    path.with_name(path.name + ".pub").write_bytes(encode_public_key(key.public_key()) + b"\n")
    return key


def sign_token(key: rsa.RSAPrivateKey, token: bytes) -> bytes:
    """PKCS#1 v1.5 over the token taken as a SHA-1 digest, as adbd verifies it."""
    return key.sign(token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))


def verify_signature(key: rsa.RSAPublicKey, token: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))
        return True
    except Exception:
        return False
