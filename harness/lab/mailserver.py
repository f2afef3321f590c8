"""A real mail server for a lab's tests: Debian's Dovecot on 127.0.0.1, run without root.

E-mailed access codes are read over IMAP (``harness.flows.imap_codes``), and
the emulated account service delivers them over LMTP, as a real service hands
mail to a real server. Tests check both against this server rather than a mock
of one: its greeting, its capabilities, its refusals and its going away are
Dovecot's own.

How it runs:
- Everything lives in one private folder (made 0700): the config file
  (``dovecot -c``), a base and a state directory, the passwd-file (salted
  SHA-256 hashes) that serves as passdb and userdb, the Maildirs, the log,
  and a throwaway self-signed certificate for imaps.
- The listening sockets are made here, on ports the OS picks, and handed to
  Dovecot as systemd's socket activation does; nothing guesses a free port.
- Not as root: Dovecot's processes all run as the user who starts it
  (``default_internal_user``, ``default_login_user``), without chroots. Dovecot
  refuses mail owned by uid 0, so under root it runs as ``nobody`` (the
  keeper drops to it just before the exec) and that user is given the folder.
- A keeper process (``mailserver_keeper``) stops it when ``stop()`` is called
  or when this process dies, however it dies.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from harness.errors import HarnessError

#: Where Debian puts the binary (not on a non-root user's PATH).
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
#: The post-login capabilities of a server without IDLE (Dovecot's own list, less IDLE).
CAPABILITIES_WITHOUT_IDLE = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT UIDPLUS NAMESPACE UNSELECT "
                             "CHILDREN LITERAL+ MOVE ESEARCH LIST-EXTENDED SPECIAL-USE")
#: The unprivileged user root runs the server as.
ROOT_RUNS_AS = "nobody"


class MailServerError(HarnessError):
    """The mail server could not be set up or did not start; says why and quotes its log."""


def dovecot_binary() -> str | None:
    """The ``dovecot`` program, or None when it is not installed (``apt-get install dovecot-imapd``)."""
    return shutil.which("dovecot", path=SEARCH_PATH)


def _hash(password: str) -> str:
    """Dovecot's ``{SSHA256}`` scheme: base64(sha256(password + salt) + salt), so no password is on disk."""
    salt = secrets.token_bytes(8)
    return "{SSHA256}" + base64.b64encode(hashlib.sha256(password.encode() + salt).digest() + salt).decode()


def make_certificate(cert: Path, key: Path, host: str = "127.0.0.1", days: int = 2) -> None:
    """A throwaway self-signed certificate for ``host`` (an IP address), valid from an hour ago for ``days``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=days))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(private, hashes.SHA256()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    key.chmod(0o600)


def _listener() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


class MailServer:
    """Dovecot with IMAP, IMAPS and LMTP on 127.0.0.1; ``users`` maps each login to its password.

    ``idle=False`` leaves IDLE out of the capabilities (a server that lacks it).
    Use as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(self, users: dict[str, str], idle: bool = True, startup_timeout: float = 60.0) -> None:
        for user in users:
            if not user or any(ch in user for ch in ":\n\r\t /"):
                raise MailServerError(f"mail user {user!r}: a login may not be empty or hold ':', '/', spaces or newlines")
        self.users = dict(users)
        self.idle = idle
        self.startup_timeout = startup_timeout
        self.root: Path | None = None
        self.imap_port = self.imaps_port = self.lmtp_port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ addresses
    @property
    def ca_file(self) -> Path:
        """The self-signed certificate, to trust for imaps."""
        return self._path("cert.pem")

    @property
    def lmtp_url(self) -> str:
        return f"lmtp://127.0.0.1:{self.lmtp_port}"

    def inbox_url(self, user: str, tls: bool = True, folder: str = "INBOX") -> str:
        """``imaps://user@127.0.0.1:PORT/INBOX`` (or ``imap://``) for ``user``, without the password."""
        return f"imaps://{user}@127.0.0.1:{self.imaps_port}/{folder}" if tls else \
            f"imap://{user}@127.0.0.1:{self.imap_port}/{folder}"

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of Dovecot's log, joined with ' | ' (for one-line errors)."""
        try:
            text = self._path("dovecot.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def _path(self, name: str) -> Path:
        if self.root is None:
            raise MailServerError("the mail server is not started")
        return self.root / name

    # ------------------------------------------------------------------ life cycle
    def start(self) -> "MailServer":
        """Write the config, make the sockets and start Dovecot; returns once it greets on IMAP."""
        binary = dovecot_binary()
        if binary is None:
            raise MailServerError("dovecot is not installed: apt-get install dovecot-imapd dovecot-lmtpd")
        run_as = pwd.getpwnam(ROOT_RUNS_AS) if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        # A short path: Dovecot's unix sockets live under base_dir, and a socket path holds at most 107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="harness-dovecot-"))
        sockets = [_listener() for _ in range(3)]
        try:
            self.imap_port, self.imaps_port, self.lmtp_port = (s.getsockname()[1] for s in sockets)
            self._write_files(run_as)
            if os.geteuid() == 0:
                for path in [self.root, *self.root.rglob("*")]:
                    os.chown(path, run_as.pw_uid, run_as.pw_gid, follow_symlinks=False)
            with open(self._path("keeper.log"), "wb") as keeper_log:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "harness.lab.mailserver_keeper", binary, str(self._path("dovecot.conf")),
                     f"{run_as.pw_uid}:{run_as.pw_gid}", *(str(s.fileno()) for s in sockets)],
                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=keeper_log,
                    pass_fds=[s.fileno() for s in sockets], cwd=self.root, env=_child_env())
        except BaseException:
            self._remove()
            raise
        finally:
            for s in sockets:
                s.close()
        try:
            self._wait_for_greeting()
        except BaseException:
            self.stop()
            raise
        return self

    def _write_files(self, run_as: pwd.struct_passwd) -> None:
        root = self.root
        assert root is not None
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(mode=0o700)
        make_certificate(root / "cert.pem", root / "key.pem")
        (root / "passwd").write_text("".join(
            f"{user}:{_hash(password)}:{run_as.pw_uid}:{run_as.pw_gid}::{root / 'mail' / user}::\n"
            for user, password in self.users.items()), encoding="utf-8")
        (root / "passwd").chmod(0o600)
        capability = "" if self.idle else f"imap_capability = {CAPABILITIES_WITHOUT_IDLE}\n"
        (root / "dovecot.conf").write_text(f"""\
# Written by harness.lab.mailserver: a private Dovecot for tests, run by {run_as.pw_name} without root.
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {root / 'run'}
state_dir = {root / 'state'}
instance_name = {root.name}
log_path = {root / 'dovecot.log'}
default_internal_user = {run_as.pw_name}
default_internal_group = {_group_name(run_as.pw_gid)}
default_login_user = {run_as.pw_name}
first_valid_uid = {run_as.pw_uid}
last_valid_uid = {run_as.pw_uid}
ssl = yes
ssl_cert = <{root / 'cert.pem'}
ssl_key = <{root / 'key.pem'}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
{capability}passdb {{
  driver = passwd-file
  args = {root / 'passwd'}
}}
userdb {{
  driver = passwd-file
  args = {root / 'passwd'}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    port = {self.lmtp_port}
  }}
}}
""", encoding="utf-8")

    def _wait_for_greeting(self) -> None:
        """Until Dovecot answers on the IMAP port with its greeting (the socket accepts from the start)."""
        deadline = time.monotonic() + self.startup_timeout
        seen = "nothing"
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise MailServerError(f"dovecot exited while starting (status {self._proc.returncode if self._proc else '?'}): "
                                      f"{self.log_tail()}; keeper: {self._keeper_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=max(0.1, deadline - time.monotonic())) as s:
                    greeting = s.recv(512)
                if greeting.startswith(b"* OK"):
                    return
                seen = repr(greeting[:80])
            except OSError as exc:
                seen = str(exc)
        raise MailServerError(f"dovecot did not greet on 127.0.0.1:{self.imap_port} within {self.startup_timeout:g}s "
                              f"(saw {seen}): {self.log_tail()}")

    def _keeper_log(self) -> str:
        try:
            return self._path("keeper.log").read_text(errors="replace").strip()[-300:] or "(empty)"
        except OSError:
            return "(none)"

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """Stop Dovecot (its keeper stops it on end-of-file) and remove the folder."""
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._remove()

    def _remove(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> "MailServer":
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def _child_env() -> dict[str, str]:
    """The keeper's environment: ours, with the harness importable from wherever it is installed."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
