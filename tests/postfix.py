"""A private, real Postfix (Debian's 3.7) with SASL through a private Dovecot, for tests.

How the instance is built
-------------------------
Everything lives in one folder made by `tempfile.mkdtemp` under /tmp, not in pytest's
tmp_path: Postfix and Dovecot drop root for users of their own (postfix, nobody,
dovecot), and those users cannot pass through pytest's 0700 folders; /tmp also keeps
the Unix socket paths under their 108-byte limit. The folder is removed on `stop()`.

    etc/      config_directory: main.cf and master.cf written here, read by
              `postfix -c etc ...` and `postconf -c etc ...` (the documented way to
              run a second instance; /etc/postfix is never read or written)
    spool/    queue_directory (Postfix creates its subfolders, owned by postfix, at
              start: `postfix-script check-fatal` runs `post-install create-missing`)
    lib/      data_directory, owned by postfix
    mail/     virtual_mailbox_base; every message ends in the one Maildir mail/Maildir/
    tls/      a self-signed certificate for 127.0.0.1 and localhost, made at start
    dovecot/  dovecot.conf, the passwd-file, base_dir (run/), state_dir, the log
    maillog   Postfix's log (maillog_file), so no syslog is needed

The settings that are not what a mail server would have:

- `inet_interfaces = 127.0.0.1` and both services on free ports of 127.0.0.1 picked at
  start: nothing listens anywhere else, and port 25 is never used.
- `mydestination =` (empty), `virtual_mailbox_domains = static:all` and
  `virtual_mailbox_maps = static:Maildir/`: every recipient at every domain is a virtual
  mailbox, delivered by virtual(8) into one Maildir. virtual(8) prepends
  `Delivered-To:` and `X-Original-To:` (the recipient as the client gave it), which is
  what the tests read. The mailbox belongs to `nobody`: virtual(8) refuses uids below
  virtual_minimum_uid (100), so not root, and Postfix's own user should own none.
- `default_transport`, `relay_transport` and `local_transport` are `error:`, and
  master.cf has no smtp/lmtp client service at all: nothing can leave the machine even
  if a setting above is changed by a test.
- `smtp_dns_support_level = disabled`, `smtpd_peername_lookup = no`: no DNS lookups
  (the client is always 127.0.0.1; a test must not wait on a resolver).
- `smtpd_client_event_limit_exceptions =` (empty): by default clients in $mynetworks,
  so 127.0.0.1, are exempt from anvil's limits; emptied so that a test can set e.g.
  `smtpd_client_connection_count_limit = 2` and see it apply.
- `maillog_file` with `maillog_file_prefixes` set to this folder (Postfix refuses a
  log file outside the prefixes, /var by default) and the `postlog` service in
  master.cf, which maillog_file needs.
- chroot is off (`n`) for every service: a chroot would need copies of /etc files.
- submission: `smtpd_tls_security_level=encrypt`, `smtpd_tls_auth_only=yes`,
  `smtpd_sasl_auth_enable=yes` and `smtpd_client_restrictions=permit_sasl_authenticated,
  reject` as `-o` options in master.cf; sender restrictions stay in main.cf so that
  `set()` can change them for both services. `smtpd_sasl_type = dovecot` with
  `smtpd_sasl_path = private/auth`, a socket that Dovecot's auth service creates in
  Postfix's queue folder (owned by postfix, mode 0660).
- Dovecot serves auth only: `protocols =` (empty) and no listener but that socket,
  `ssl = no` (Postfix does the TLS), its own base_dir and state_dir (so the instance is
  invisible to the system's `doveadm`), one user in a passwd-file with a {PLAIN}
  password, `auth_mechanisms = plain login`. Dovecot's `auth_failure_delay` (2 s, a
  real server's default) is kept: each refused login takes that long to be answered.

`stop()` runs `postfix -c etc stop`, sends SIGTERM to Dovecot's master (its pid file), waits
until no process has its working folder or its command line in the instance's folder,
and kills (SIGKILL, by process id) any that is left after 10 s.

Start-up takes 2-3 s, nearly all of it `postfix start`'s own integrity checks
(`postfix-script check-fatal` and `check-warn`); Dovecot is up in a few ms. `start()`
returns once both ports accept connections.
"""

from __future__ import annotations

import email
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from mailserver import self_signed

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
DOVECOT = "/usr/sbin/dovecot"
USER = "campaigner"

MAIN_CF = """\
# A private test instance: see tests/postfix.py. Nothing here reaches the network.
compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/lib
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-advocacy-test
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.advocacy.test
mydomain = advocacy.test
myorigin = $myhostname
mydestination =
mynetworks = 127.0.0.1/32
relay_domains =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
readme_directory = no

# Every recipient, at every domain, goes into one Maildir.
virtual_mailbox_domains = static:all
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_transport = virtual

# Anything else is refused: no mail leaves this machine.
local_transport = error:5.1.1 local delivery is off in this test instance
default_transport = error:5.7.1 this test instance sends no mail out
relay_transport = error:5.7.1 this test instance relays no mail
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no

# 127.0.0.1 is in $mynetworks: without this it would be exempt from anvil's limits.
smtpd_client_event_limit_exceptions =

smtpd_tls_cert_file = {root}/tls/server.pem
smtpd_tls_key_file = {root}/tls/server.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
"""

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:{smtp_port} inet n - n - - smtpd
  -o syslog_name=postfix-advocacy-test/smtp
127.0.0.1:{submission_port} inet n - n - - smtpd
  -o syslog_name=postfix-advocacy-test/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

DOVECOT_CONF = """\
# Dovecot as an auth server only, for one test Postfix: see tests/postfix.py.
base_dir = {root}/dovecot/run
state_dir = {root}/dovecot/state
instance_name = {name}
protocols =
ssl = no
log_path = {root}/dovecot/dovecot.log
auth_mechanisms = plain login
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/dovecot/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail
}}
service auth {{
  unix_listener {root}/spool/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""


class HarnessError(AssertionError):
    """The test Postfix or Dovecot could not be set up (not a failure of advocacy)."""


@dataclass
class Delivered:
    path: Path
    message: EmailMessage

    @property
    def original_to(self) -> str:
        """The envelope recipient as the client gave it (X-Original-To)."""
        return str(self.message["X-Original-To"])

    @property
    def delivered_to(self) -> str:
        return str(self.message["Delivered-To"])


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run a command; its output goes through a file, not a pipe: a daemon it starts
    keeps the pipe open, and reading a pipe would wait for the daemon to end."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
        result = subprocess.run(
            args, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            text=True, timeout=timeout,
        )  # fmt: skip
        output.seek(0)
        return subprocess.CompletedProcess(args, result.returncode, "", output.read())


def _require_installed() -> None:
    missing = [p for p in (POSTFIX, POSTCONF, DOVECOT) if not os.access(p, os.X_OK)]
    if missing:
        raise HarnessError(
            f"{', '.join(missing)} not installed: run scripts/install.sh --test "
            "(it installs the Debian packages postfix and dovecot-core)"
        )
    if os.geteuid() != 0:
        raise HarnessError("a private Postfix must be started as root (it drops to postfix)")


class Postfix:
    """A private Postfix on 127.0.0.1 with a submission port (STARTTLS + SASL)."""

    def __init__(self) -> None:
        _require_installed()
        self.root = Path(tempfile.mkdtemp(prefix="advocacy-postfix-"))
        self.root.chmod(0o711)
        self.config = self.root / "etc"
        self.queue = self.root / "spool"
        self.maildir = self.root / "mail" / "Maildir"
        self.dovecot_conf = self.root / "dovecot" / "dovecot.conf"
        self.user = USER
        self.password = secrets.token_urlsafe(12)
        self.smtp_port = self.submission_port = 0
        self.cafile = self.root / "tls" / "server.pem"
        self.started_in = 0.0  # seconds start() took
        self._running = False

    # -- set-up ------------------------------------------------------------------

    def _write(self) -> None:
        root = self.root
        nobody = pwd.getpwnam("nobody")
        postfix = pwd.getpwnam("postfix")
        dovecot = pwd.getpwnam("dovecot")
        for name, owner, mode in (
            ("etc", None, 0o755),
            ("spool", None, 0o755),
            ("lib", postfix, 0o700),
            ("mail", nobody, 0o700),
            ("tls", None, 0o700),
            ("dovecot", None, 0o755),
        ):
            folder = root / name
            folder.mkdir(exist_ok=True)
            folder.chmod(mode)
            if owner is not None:
                os.chown(folder, owner.pw_uid, owner.pw_gid)
        self_signed(root / "tls")
        (self.config / "main.cf").write_text(
            MAIN_CF.format(root=root, uid=nobody.pw_uid, gid=nobody.pw_gid), "utf-8"
        )
        (self.config / "master.cf").write_text(
            MASTER_CF.format(smtp_port=self.smtp_port, submission_port=self.submission_port),
            "utf-8",
        )
        self.dovecot_conf.write_text(
            DOVECOT_CONF.format(root=root, name=f"advocacy-test-{root.name}"), "utf-8"
        )
        users = root / "dovecot" / "users"
        users.write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n", "utf-8")
        users.chmod(0o640)
        os.chown(users, 0, dovecot.pw_gid)
        # The auth socket's folder must exist before Dovecot starts: Postfix makes its
        # queue folders at start, so make this one the way Postfix would.
        private = self.queue / "private"
        private.mkdir(exist_ok=True)
        private.chmod(0o700)
        os.chown(private, postfix.pw_uid, postfix.pw_gid)

    def start(self, timeout: float = 20) -> Postfix:
        began = time.monotonic()
        for attempt in range(3):
            self.smtp_port, self.submission_port = _free_ports(2)
            self._write()
            if attempt == 0:
                self._start_dovecot(timeout)
            result = _run(POSTFIX, "-c", str(self.config), "start", timeout=timeout)
            if result.returncode == 0:
                self._running = True
                break
            log = self.log()
            if "Address already in use" not in log + result.stderr:  # lost a port race
                self.stop()
                raise HarnessError(f"postfix start failed:\n{result.stderr}\n{log}")
        else:
            self.stop()
            raise HarnessError(f"postfix start failed 3 times:\n{self.log()}")
        deadline = time.monotonic() + timeout
        while not (_accepts(self.smtp_port) and _accepts(self.submission_port)):
            if time.monotonic() > deadline:
                self.stop()
                raise HarnessError(f"postfix does not accept connections:\n{self.log()}")
            time.sleep(0.05)
        self.started_in = time.monotonic() - began
        return self

    def _start_dovecot(self, timeout: float) -> None:
        result = _run(DOVECOT, "-c", str(self.dovecot_conf), timeout=timeout)
        socket_path = self.queue / "private" / "auth"
        deadline = time.monotonic() + timeout
        while result.returncode == 0 and not socket_path.exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if result.returncode != 0 or not socket_path.exists():
            self.stop()
            raise HarnessError(f"dovecot did not start:\n{result.stderr}\n{self.dovecot_log()}")

    # -- what tests use ----------------------------------------------------------

    @property
    def submission_url(self) -> str:
        """STARTTLS with SASL: give the password in ADVOCACY_SMTP_PASSWORD."""
        return f"smtp://{self.user}@127.0.0.1:{self.submission_port}"

    @property
    def smtp_url(self) -> str:
        """The port-25-like service: no AUTH, TLS offered, not required."""
        return f"smtp://127.0.0.1:{self.smtp_port}"

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text("utf-8", errors="replace") if path.exists() else ""

    def dovecot_log(self) -> str:
        path = self.root / "dovecot" / "dovecot.log"
        return path.read_text("utf-8", errors="replace") if path.exists() else ""

    def sasl_failures(self) -> list[str]:
        """The log lines of smtpd's refused logins ("SASL PLAIN authentication failed")."""
        return [
            line
            for line in self.log().splitlines()
            if re.search(r"SASL \S+ authentication failed", line)
        ]

    def messages(self) -> list[Delivered]:
        """Every message delivered so far, oldest first."""
        found = []
        for path in sorted((self.maildir / "new").glob("*")) if self.maildir.exists() else []:
            parsed = email.message_from_bytes(path.read_bytes(), policy=default)
            assert isinstance(parsed, EmailMessage)
            found.append(Delivered(path, parsed))
        return found

    def queued(self) -> list[Path]:
        """Messages still in Postfix's queues (not yet delivered, or deferred)."""
        names = ("maildrop", "incoming", "active", "deferred", "hold")
        return [p for n in names for p in (self.queue / n).rglob("*") if p.is_file()]

    def wait_delivered(self, count: int, timeout: float = 20) -> list[Delivered]:
        """Wait until `count` messages are in the Maildir and the queue is empty."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if len(found) >= count and not self.queued():
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(found)} of {count} message(s) delivered, {len(self.queued())} "
                    f"queued, after {timeout} s:\n{self.log()}"
                )
            time.sleep(0.1)

    def set(self, **parameters: str) -> None:
        """Set main.cf parameters (`postconf -c -e`) and reload Postfix."""
        if parameters:
            pairs = [f"{name}={value}" for name, value in parameters.items()]
            result = _run(POSTCONF, "-c", str(self.config), "-e", *pairs)
            if result.returncode != 0:
                raise HarnessError(f"postconf -e failed: {result.stderr}")
        self.reload()

    def reject_sender(self, address: str, reply: str = "553 5.7.1 sender refused by test") -> None:
        """Refuse MAIL FROM:<address> with `reply` (a texthash: table needs no postmap)."""
        table = self.config / "sender_access"
        table.write_text(f"{address} {reply}\n", "utf-8")
        self.set(smtpd_sender_restrictions=f"check_sender_access texthash:{table}")

    def reload(self) -> None:
        result = _run(POSTFIX, "-c", str(self.config), "reload")
        if result.returncode != 0:
            raise HarnessError(f"postfix reload failed: {result.stderr}\n{self.log()}")

    # -- stopping ----------------------------------------------------------------

    def processes(self) -> list[int]:
        """Ids of the processes of this instance: Postfix's and Dovecot's."""
        return processes_under(self.root)

    def stop(self) -> None:
        if self._running:
            _run(POSTFIX, "-c", str(self.config), "stop")
            self._running = False
        end_instance(self.root, self.root / "dovecot" / "run" / "master.pid")


def processes_under(root: Path) -> list[int]:
    """Ids of the processes working in `root` or naming it on their command line."""
    mine, prefix = [], str(root)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cwd.startswith(prefix) or prefix in cmdline:
            mine.append(int(entry.name))
    return mine


def end_instance(root: Path, dovecot_pid_file: Path) -> None:
    """Stop a private Dovecot (SIGTERM to its master), wait for every process of the
    instance in `root` to end, SIGKILL (by id) any left after 10 s, remove `root`."""
    if dovecot_pid_file.exists():  # SIGTERM is Dovecot's stop (`dovecot stop` polls for 3 s)
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(dovecot_pid_file.read_text().strip()), signal.SIGTERM)
    deadline = time.monotonic() + 10
    while processes_under(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in processes_under(root):  # left behind: not one of ours may outlive the test
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(root, ignore_errors=True)


@contextmanager
def running() -> Iterator[Postfix]:
    """A started instance, stopped (with every process of it) on leaving."""
    server = Postfix()
    try:
        yield server.start()
    finally:
        server.stop()
