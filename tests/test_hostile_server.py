"""A hostile SMTP server cannot exhaust or stall `advocacy send` (issue 22, item 3):
every reply is bounded to 64 KB and to --timeout seconds as a whole (send/wire.py).

Each case runs the real command line against a server of tests/hostile.py with
`--timeout 2` and the default retries; the subprocess's own timeout bounds the test.
Each gives one error line and a non-zero exit, and nothing is sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from hostile import MODES, HostileServer
from mailserver import make_campaign, office
from test_send import _journal


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    mode, after_data = request.param
    server = HostileServer(mode, after_data=after_data).start()
    yield server
    server.stop()


def _send(campaign: Path, out: Path, server: HostileServer) -> tuple[int, list[str], str]:
    result = run_cli(
        "send", str(campaign), "--out", str(out), "--smtp", server.url, "--no-attach-pdf",
        "--no-dry-run", "--yes", "--timeout", "2", "--connections", "1", timeout=90,
    )  # fmt: skip
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    return result.returncode, errors, result.stderr


EXPECTED = {"endless": "passed 64 KB", "trickle": "within 2 s", "silent": "within 2 s"}


@pytest.mark.parametrize("hostile", [(mode, False) for mode in MODES], indirect=True, ids=MODES)
def test_a_hostile_greeting_ends_the_run_at_once(tmp_path: Path, hostile: HostileServer) -> None:
    campaign = make_campaign(tmp_path / "campaign", [office(1), office(2)])
    out = tmp_path / "out"
    code, errors, stderr = _send(campaign, out, hostile)
    assert code == 1, stderr
    assert len(errors) == 1 and EXPECTED[hostile.mode] in errors[0], stderr
    assert "Traceback" not in stderr
    assert hostile.connections == 1  # no retry: a server that greets nobody is not waited on
    assert {state for state, _, _ in _journal(out).values()} == {"pending"}


@pytest.mark.parametrize("hostile", [(mode, True) for mode in MODES], indirect=True, ids=MODES)
def test_a_hostile_reply_to_a_message_leaves_it_unknown_and_unsent_again(
    tmp_path: Path, hostile: HostileServer
) -> None:
    campaign = make_campaign(tmp_path / "campaign", [office(1), office(2)])
    out = tmp_path / "out"
    code, errors, stderr = _send(campaign, out, hostile)
    assert code == 1, stderr
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    # endless: the run stops at the first reply; trickle, silent: after 2 in a row
    assert len(hostile.bodies) == (1 if hostile.mode == "endless" else 2)
    taken = {key for key, (state, _, _) in _journal(out).items() if state != "pending"}
    _send(campaign, out, hostile)  # a rerun: the unknown ones wait for --retry-unknown
    for key in ("r1", "r2"):  # nothing twice: the unknown ones are not sent again
        arrived = sum(f"{key}@example.org".encode() in body for body in hostile.bodies)
        assert arrived == 1 if key in taken else arrived <= 1
    assert all(_journal(out)[key][0] in ("unknown", "sending") for key in taken)
    status = run_cli("status", "--out", str(out))
    assert "r1 <r1@example.org> (Message-ID" in status.stdout and ": unknown" in status.stdout
