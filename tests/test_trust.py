"""Trust boundaries of issue 22: what a campaign folder from a stranger reaches through
links, a campaign's own CA file, a damaged send journal, a huge co-signatory list, and
a Python whose email module can inject headers.

Every case ends the same way: one line naming the file, a non-zero exit, no content of
a file outside the campaign on screen or on disk, and nothing sent (twice or at all).
"""

from __future__ import annotations

import email.policy
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from advocacy.campaign.model import MAX_COSIGNATORIES
from advocacy.runtime import ALLOW_ENV, email_fix_missing
from conftest import REPO, edit_file, files_in, run_cli
from mailserver import MailServer, make_campaign, office, self_signed, server_tls

SECRET = "TOP-SECRET-CONTENT"
Setup = Callable[[Path], None]


def _secret_beside(root: Path, name: str = "secret.txt", text: str = SECRET) -> Path:
    path = root.parent / name
    path.write_text(text, encoding="utf-8")
    return path


def _templates_linked_up(root: Path) -> None:
    """`templates` -> `..`: the letter template then sits in the campaign itself, and
    its `{% include %}` reaches the file beside the campaign."""
    _secret_beside(root)
    shutil.rmtree(root / "templates")
    (root / "templates").symlink_to("..")
    (root / "evil.html.j2").write_text('{% include "secret.txt" %}', encoding="utf-8")
    toml = root / "campaign.toml"
    edit_file(
        toml, 'letter_template = "letter.html.j2"', f'letter_template = "{root.name}/evil.html.j2"'
    )


def _locale_linked_out(root: Path) -> None:
    elsewhere = root.parent / "elsewhere"
    shutil.copytree(REPO / "locales" / "de", elsewhere)
    po = elsewhere / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace("Auswärtiges", SECRET), encoding="utf-8")
    (root / "locales").mkdir()
    (root / "locales" / "de").symlink_to(elsewhere)


def _review_linked_out(root: Path) -> None:
    shutil.copytree(REPO / "locales" / "de", root / "locales" / "de")
    secret = _secret_beside(root, "profile.toml", f'state = "{SECRET}"\n')
    (root / "locales" / "de" / "review.toml").unlink()
    (root / "locales" / "de" / "review.toml").symlink_to(secret)


def _recipients_linked_out(root: Path) -> None:
    elsewhere = root.parent / "lists"
    elsewhere.mkdir()
    (elsewhere / "list.yaml").write_text(
        f"- id: x\n  country: DE\n  organisation: {SECRET}\n  languages: [en]\n", encoding="utf-8"
    )
    shutil.rmtree(root / "recipients")
    (root / "recipients").symlink_to(elsewhere)


def _campaign_file_linked_out(root: Path) -> None:
    secret = _secret_beside(
        root, "other.toml", (root / "campaign.toml").read_text() + f"# {SECRET}\n"
    )
    (root / "campaign.toml").unlink()
    (root / "campaign.toml").symlink_to(secret)


def _template_linked_to_a_device(root: Path) -> None:
    """A link to /dev/zero must be refused before it is read (it never ends)."""
    (root / "templates" / "zero.html").symlink_to("/dev/zero")
    letter = root / "templates" / "letter.html.j2"
    letter.write_text(letter.read_text(encoding="utf-8") + "{% include 'zero.html' %}")


def _cosignatories(count: int) -> Setup:
    def setup(root: Path) -> None:
        rows = ["name,role,organisation"] + [f"Person {i},member,Group {i}" for i in range(count)]
        (root / "cosign.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        edit_file(
            root / "campaign.toml",
            '# cosignatories_csv = "cosignatories.csv"',
            'cosignatories_csv = "cosign.csv"',
        )

    return setup


# case -> (setup, what the one line says, exit code)
RENDER_CASES: dict[str, tuple[Setup, list[str], int]] = {
    "templates folder linked to ..": (_templates_linked_up, ["templates: is a link", "outside"], 2),
    "locales/<lang> linked out": (_locale_linked_out, ["locales/de: is a link", "outside"], 2),
    "review.toml linked out": (_review_linked_out, ["locales/de/review.toml: is a link"], 2),
    "recipients folder linked out": (_recipients_linked_out, ["recipients", "outside"], 2),
    "campaign.toml linked out": (_campaign_file_linked_out, ["campaign.toml: is a link"], 2),
    "template linked to /dev/zero": (_template_linked_to_a_device, ["zero.html"], 2),
    "200,000 co-signatories": (
        _cosignatories(200_000),
        ["cosign.csv", f"more than {MAX_COSIGNATORIES:,} co-signatories"],
        2,
    ),
}


def _one_line(result: subprocess.CompletedProcess[str], code: int, expected: list[str]) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for part in expected:
        assert part in lines[0], (part, lines[0])
    return lines[0]


@pytest.mark.parametrize("case", sorted(RENDER_CASES))
@pytest.mark.parametrize("command", ["render", "preview"])
def test_a_campaign_reaches_nothing_outside_its_folder(
    case: str, command: str, mini_campaign: Path, tmp_path: Path
) -> None:
    setup, expected, code = RENDER_CASES[case]
    setup(mini_campaign)
    out = tmp_path / "out"
    args = ["--out", str(out)] if command == "render" else ["--to", "de-mfa"]
    result = run_cli(command, str(mini_campaign), *args, timeout=60)
    _one_line(result, code, expected)
    assert SECRET not in result.stdout + result.stderr
    assert files_in(out) == []


def test_the_limit_of_co_signatories_itself_renders(mini_campaign: Path, tmp_path: Path) -> None:
    """The limit is a documented number, not a mistake: a list that reaches it loads."""
    _cosignatories(MAX_COSIGNATORIES)(mini_campaign)
    result = run_cli("recipients", "check", str(mini_campaign))
    assert "co-signatories" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# -- the Python runtime --------------------------------------------------------


def test_a_python_without_the_email_fix_is_named_and_refused(mini_campaign: Path) -> None:
    """CVE-2024-6923: the fix added Policy.verify_generated_headers; a Python without it
    is refused at start-up (one line naming its version), unless the user accepts it."""
    assert email_fix_missing(email.policy.compat32.clone(), "3.11.7").startswith(
        "Python 3.11.7 lacks the fix for CVE-2024-6923"
    )
    fixed = hasattr(email.policy.default, "verify_generated_headers")
    env = {k: v for k, v in os.environ.items() if k != ALLOW_ENV}
    result = subprocess.run(
        [sys.executable, "-m", "advocacy", "recipients", "check", str(mini_campaign)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    version = ".".join(str(part) for part in sys.version_info[:3])
    if fixed:
        assert "CVE-2024-6923" not in result.stderr
    else:
        line = _one_line(
            result, 1, [f"Python {version} lacks the fix for CVE-2024-6923", ALLOW_ENV]
        )
        assert "3.11.10, 3.12.5 or 3.13" in line
    accepted = run_cli("recipients", "check", str(mini_campaign), env={ALLOW_ENV: "1"})
    assert "CVE-2024-6923" not in accepted.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "advocacy", "--help"], capture_output=True, text=True, env=env
    )
    assert help_text.returncode == 0


# -- sending: the CA file -----------------------


@pytest.fixture
def smtpd() -> Iterator[Callable[..., MailServer]]:
    """Real SMTP servers on free ports of 127.0.0.1, stopped after the test."""
    started: list[MailServer] = []

    def start(**kwargs: Any) -> MailServer:
        server = MailServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _send(campaign: Path, out: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        *("send", str(campaign), "--out", str(out), "--smtp", url, "--no-attach-pdf", "--yes"),
        *args,
        timeout=120,
    )


def test_a_campaigns_own_ca_file_is_never_trusted(
    tmp_path: Path, smtpd: Callable[..., MailServer]
) -> None:
    """A campaign from a stranger names a CA that signed the stranger's server; the user
    gives --smtp. The login and letters must not go to a server that CA vouches for."""
    cert, key = self_signed(tmp_path)
    server = smtpd(tls=server_tls(cert, key))
    campaign = make_campaign(
        tmp_path / "campaign",
        [office(1), office(2)],
        toml=lambda text: text + '\n[smtp]\ncafile = "ca.pem"\n',
    )
    shutil.copy(cert, campaign / "ca.pem")
    out = tmp_path / "out"
    url = f"smtp://127.0.0.1:{server.port}"
    result = _send(campaign, out, url, "--no-dry-run")
    line = _one_line(result, 1, ["not trusted", "--cafile"])
    assert "smtp.cafile is ignored" in result.stderr
    assert "BEGIN CERTIFICATE" not in line
    assert server.messages() == []
    # The same certificate given by the user is trusted: the letters go, once each.
    good = _send(campaign, out, url, "--no-dry-run", "--cafile", str(cert))
    assert good.returncode == 0, good.stderr
    assert sorted(server.ids().values()) == [1, 1]
