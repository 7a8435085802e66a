"""Send benchmark: `advocacy send` against mailmerge 2.3.0, same messages, same server.

    pip install aiosmtpd cryptography mailmerge==2.3.0   # mailmerge: for this script only
    python benchmarks/send_bench.py [--messages 1000] [--delay 0.02]

The server is aiosmtpd on 127.0.0.1 in its own process, with STARTTLS (a
self-signed certificate made here) and AUTH required, and 20 ms of delay
before it handles each SMTP command (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA,
QUIT...), standing in for the round trips of a real network.

For each variant (text + HTML; then the same with a ~60 KB PDF attached) the
letters are rendered first (not timed), then sent three times, each run timed
from process start to exit and checked against the server's count:
  mailmerge 2.3.0 --no-limit (a new connection, TLS handshake and login per message)
  advocacy send --connections 1
  advocacy send --connections 4
mailmerge gets the same text, HTML and PDF of each letter (read back from the
.eml files advocacy wrote). The targets: advocacy at least 8 times mailmerge's
rate with --connections 4, and at least 2 times with one connection.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import email
import multiprocessing
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
USER = "bench"


# -- the server (its own process) ---------------------------------------------


def _make_certificate(folder: Path) -> tuple[Path, Path]:
    """The tests' self-signed certificate for 127.0.0.1 (one recipe for both)."""
    sys.path.insert(0, str(REPO / "tests"))
    from mailserver import self_signed

    return self_signed(folder)


def _serve(
    ready: Any, cert: str, key: str, delay: float, password: str, count: Any, conns: Any
) -> None:
    import logging

    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    logging.getLogger("mail.log").setLevel(logging.ERROR)  # per-session notices

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and data.login == USER.encode()
        return AuthResult(success=ok and data.password == password.encode(), handled=False)

    def delayed(method: Callable[[str], Any]) -> Callable[[str], Any]:
        async def run(arg: str) -> Any:
            await asyncio.sleep(delay)  # a network round trip's worth, for every command
            return await method(arg)

        return run

    class SlowSMTP(SMTP):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._smtp_methods = {n: delayed(m) for n, m in self._smtp_methods.items()}

        def connection_made(self, transport: Any) -> None:
            with conns.get_lock():
                conns.value += 1
            super().connection_made(transport)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    loop = asyncio.new_event_loop()

    def protocol() -> SlowSMTP:
        return SlowSMTP(
            Handler(),
            hostname="localhost",
            tls_context=context,
            require_starttls=True,
            authenticator=authenticate,
            auth_required=True,
            loop=loop,
        )

    server = loop.run_until_complete(loop.create_server(protocol, "127.0.0.1", 0))
    ready.send(server.sockets[0].getsockname()[1])
    loop.run_forever()


# -- the letters ------------------------------------------------------------------


def _campaign(root: Path, messages: int, with_pdf: bool) -> Path:
    """The bundled campaign's texts, `messages` recipients with addresses.

    With a PDF, letter.css draws a 112 px square of noise (about 38 KB that no
    compression shrinks) in the letterhead: each PDF comes out at about 60 KB."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    toml = (REPO / "campaign.toml").read_text(encoding="utf-8")
    toml = toml.replace("# date = 2026-12-10", "date = 2026-12-10")
    (root / "campaign.toml").write_text(toml.replace("placeholder = true", "placeholder = false"))
    (root / "recipients").mkdir()
    with (root / "recipients" / "list.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "country", "organisation", "languages", "email", "street_address", "city"]
        )
        for n in range(1, messages + 1):
            writer.writerow(
                [
                    f"b{n:04d}",
                    "IE",
                    f"Office {n}",
                    "en",
                    f"office{n}@example.org",
                    "1 Main St",
                    "Cork",
                ]
            )
    if with_pdf:
        from PIL import Image

        Image.frombytes("RGB", (112, 112), os.urandom(112 * 112 * 3)).save(
            root / "templates" / "seal.png"
        )
        with (root / "templates" / "letter.css").open("a", encoding="utf-8") as css:
            css.write(
                "\n.letterhead { background: url(seal.png) no-repeat; background-size: 14mm; }\n"
            )
    return root


def _advocacy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "advocacy", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _mailmerge_inputs(letters: Path, folder: Path, port: int, with_pdf: bool) -> None:
    """mailmerge's template, database and server config for the same messages."""
    folder.mkdir()
    (folder / "parts").mkdir()
    rows = []
    for path in sorted(letters.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(message, EmailMessage)
        stem = path.stem
        for kind in ("plain", "html"):
            body = message.get_body((kind,))
            assert body is not None
            text = str(body.get_content()).replace("\r\n", "\n")
            (folder / "parts" / f"{stem}.{kind}").write_text(text, encoding="utf-8")
        rows.append(
            {
                "to": str(message["To"]),
                "sender": str(message["From"]),
                "subject": str(message["Subject"]),
                "stem": stem,
                "pdf": str(letters / f"{stem}.pdf"),
            }
        )
    with (folder / "database.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    attachment = "ATTACHMENT: {{pdf}}\n" if with_pdf else ""
    (folder / "template.txt").write_text(
        "TO: {{to}}\nFROM: {{sender}}\nSUBJECT: {{subject}}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="bench-boundary"\n'
        f"{attachment}\n"
        "--bench-boundary\nContent-Type: text/plain; charset=utf-8\n\n"
        '{% include "parts/" + stem + ".plain" %}\n'
        "--bench-boundary\nContent-Type: text/html; charset=utf-8\n\n"
        '{% include "parts/" + stem + ".html" %}\n'
        "--bench-boundary--\n",
        encoding="utf-8",
    )
    (folder / "server.conf").write_text(
        f"[smtp_server]\nhost = 127.0.0.1\nport = {port}\nsecurity = STARTTLS\n"
        f"username = {USER}\nratelimit = 0\n",
        encoding="utf-8",
    )


_MAILMERGE = (
    "import getpass, os, sys\n"
    "getpass.getpass = lambda prompt='': os.environ['BENCH_PASSWORD']\n"
    "from mailmerge.__main__ import main\n"
    "sys.argv = ['mailmerge', '--template', 'template.txt', '--database', 'database.csv',\n"
    "            '--config', 'server.conf', '--no-dry-run', '--no-limit',\n"
    "            '--output-format', 'raw']\n"
    "main()\n"
)


def _timed(command: list[str], count: Any, expect: int, **popen: Any) -> float:
    """Wall time of one run, from process start to exit; the server must count `expect`."""
    before = count.value
    started = time.perf_counter()
    result = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **popen
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"run failed ({result.returncode}): {result.stderr[-2000:]}")
    arrived = count.value - before
    if arrived != expect:
        sys.exit(f"the server received {arrived} messages, not {expect}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per SMTP command")
    parser.add_argument("--skip-mailmerge", action="store_true")
    parser.add_argument(
        "--work",
        type=Path,
        help="keep the files here (default: a temp folder); letters rendered there by an "
        "earlier run of the same size are reused",
    )
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="send-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cert, key = _make_certificate(work)
    password = secrets.token_urlsafe(16)
    context = multiprocessing.get_context("spawn")
    count, conns = context.Value("i", 0), context.Value("i", 0)
    receive, send_end = context.Pipe(duplex=False)
    server = context.Process(
        target=_serve,
        args=(send_end, str(cert), str(key), args.delay, password, count, conns),
        daemon=True,
    )
    server.start()
    port = int(receive.recv())
    url = f"smtp://{USER}@127.0.0.1:{port}"
    n = args.messages
    print(
        f"{n} messages per run; aiosmtpd on 127.0.0.1:{port}, STARTTLS + AUTH, "
        f"{args.delay * 1000:.0f} ms per SMTP command; Python {sys.version.split()[0]}"
    )
    results: list[tuple[str, str, float]] = []
    try:
        for with_pdf in (False, True):
            variant = "text+HTML, 60 KB PDF" if with_pdf else "text+HTML, no PDF"
            campaign = work / f"campaign-{int(with_pdf)}"
            letters = work / f"letters-{int(with_pdf)}"
            flags = [] if with_pdf else ["--no-attach-pdf"]
            started = time.perf_counter()
            if len(list(letters.glob("*.eml"))) != n:
                for old in (campaign, letters):
                    shutil.rmtree(old, ignore_errors=True)
                _campaign(campaign, n, with_pdf)
                rendered = _advocacy(
                    "render", str(campaign), "--format", "eml", "--out", str(letters), *flags
                )
                if rendered.returncode != 0:
                    sys.exit(rendered.stderr[-2000:])
            for old in work.glob(f"*-{int(with_pdf)}*"):
                if old.name.startswith(("out-", "mailmerge-")):
                    shutil.rmtree(old)
            pdfs = sorted(p.stat().st_size for p in letters.glob("*.pdf"))
            emls = sorted(p.stat().st_size for p in letters.glob("*.eml"))
            size = f"PDF {pdfs[len(pdfs) // 2] / 1024:.0f} KB, " if pdfs else ""
            print(
                f"\n{variant}: rendered in {time.perf_counter() - started:.0f} s (not timed); "
                f"median {size}message {emls[len(emls) // 2] / 1024:.0f} KB"
            )
            if not args.skip_mailmerge:
                folder = work / f"mailmerge-{int(with_pdf)}"
                _mailmerge_inputs(letters, folder, port, with_pdf)
                command = [sys.executable, "-c", _MAILMERGE]
                env = {**os.environ, "BENCH_PASSWORD": password}
                seconds = _timed(command, count, n, cwd=folder, env=env)
                results.append((variant, "mailmerge 2.3.0", seconds))
                print(f"  mailmerge 2.3.0          {seconds:7.1f} s  {n / seconds:7.1f} msg/s")
            for connections in (1, 4):
                out = work / f"out-{int(with_pdf)}-{connections}"
                shutil.copytree(letters, out)  # a fresh journal for each run
                command = [
                    *(sys.executable, "-m", "advocacy", "send", str(campaign), "--out", str(out)),
                    *("--smtp", url, "--cafile", str(cert), "--no-dry-run"),
                    *("--connections", str(connections), *flags),
                ]
                env = {**os.environ, "ADVOCACY_SMTP_PASSWORD": password}
                seconds = _timed(command, count, n, env=env)
                label = f"advocacy --connections {connections}"
                results.append((variant, label, seconds))
                print(f"  {label:<24} {seconds:7.1f} s  {n / seconds:7.1f} msg/s")
    finally:
        server.kill()
    print("\nvariant                 tool                        msg/s   x mailmerge")
    for variant, tool, seconds in results:
        base = next((s for v, t, s in results if v == variant and t.startswith("mailmerge")), None)
        ratio = f"{base / seconds:10.1f}" if base else "         -"
        print(f"{variant:<23} {tool:<26} {n / seconds:7.1f} {ratio}")
    print(f"(connections opened on the server: {conns.value}; files in {work})")


if __name__ == "__main__":
    main()
