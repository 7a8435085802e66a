"""Delivery-loop benchmark: `advocacy inbox` over a large mbox, then again (all seen).

    python benchmarks/loop_bench.py [--letters 1000] [--mails 3000]

A journal of N sent letters is made with the send journal's own API (no SMTP);
the mbox holds, per letter, a reply (threaded by In-Reply-To), and the rest are
unrelated mails and bounces (the real Postfix DSN of tests/fixtures/bounces, one
per 10 letters). Prints the mails per second of the first run, of the second
(every mail seen before: nothing parsed again), their ratio, and what importing
pygal costs (the report's only chart dependency).
"""

from __future__ import annotations

import argparse
import mailbox
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from advocacy.send.journal import Entry, Journal, Mark  # noqa: E402
from advocacy.track.inbox import read_inbox  # noqa: E402
from advocacy.track.mailboxes import MboxSource  # noqa: E402

BOUNCE = REPO / "tests" / "fixtures" / "bounces" / "postfix-unknown-user.eml"


def _journal(out: Path, n: int) -> dict[str, str]:
    ids = {f"r{i}": f"<letter-{i}@bench.example>" for i in range(n)}
    out.mkdir(parents=True)
    with Journal.open(out) as journal:
        journal.queue(
            [
                Entry(k, "letter", k, "en", f"{k}@bench.example", f"{k}.eml", "0", m)
                for k, m in ids.items()
            ]
        )
        journal.mark_many([Mark(k, "sent") for k in ids])
    return ids


def _mbox(path: Path, ids: dict[str, str], mails: int) -> None:
    box = mailbox.mbox(path)
    bounce = BOUNCE.read_bytes()
    keys = list(ids)
    for i in range(mails):
        key = keys[i % len(keys)]
        if i < len(keys) and i % 10 == 0:
            own = f"<bounce-{i}@mail.advocacy.test>".encode()
            box.add(
                bounce.replace(b"<letter-1@example.org>", ids[key].encode()).replace(
                    b"<20261202192140.AB71A20E083@mail.advocacy.test>", own
                )
            )
            continue
        msg = EmailMessage()
        msg["From"] = "someone@elsewhere.example"
        msg["To"] = "letters@bench.example"
        msg["Message-ID"] = f"<mail-{i}@elsewhere.example>"
        if i < len(keys):
            msg["Subject"], msg["In-Reply-To"] = "Re: your letter", ids[key]
        else:
            msg["Subject"] = f"Newsletter {i}"
        msg.set_content("Thank you.\n\n> quoted text\n" * 5)
        box.add(msg)
    box.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--mails", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        ids = _journal(out, args.letters)
        _mbox(Path(tmp) / "in.mbox", ids, args.mails)
        rates = []
        for run in ("first", "second"):
            source = MboxSource(Path(tmp) / "in.mbox")
            began = time.perf_counter()
            summary = read_inbox(out, source, "BENCH")
            seconds = time.perf_counter() - began
            source.close()
            rates.append(args.mails / seconds)
            print(
                f"{run} run: {args.mails} mails in {seconds:.2f} s ({rates[-1]:.0f}/s): "
                f"{len(summary.bounced)} bounced, {len(summary.replied)} replied, "
                f"{summary.unrelated} unrelated, {summary.seen_before} seen before"
            )
        print(f"second run / first run speed: {rates[1] / rates[0]:.1f}x")
    code = "import time; t = time.perf_counter(); import pygal; print(time.perf_counter() - t)"
    took = float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    )
    print(f"import pygal: {took * 1000:.0f} ms")


if __name__ == "__main__":
    main()
