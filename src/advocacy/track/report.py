"""`advocacy report`: report.html (and report.pdf) of every letter's state.

The page is self-contained: its styles are inline and its chart is an SVG in a
data: URL, so it opens offline, from a USB stick or an email attachment. The
chart is drawn by pygal (pure Python, 1.3 MB, imported only here: ~0.1 s), whose
SVG WeasyPrint draws as it is for the PDF; matplotlib would bring NumPy and tens
of MB for one bar chart. pygal's SVG asks for its tooltip script from a web
address by default: `js=[]` keeps the page from fetching anything.

A reply's text is never shown unless `include_replies`: the replies stay in the
output folder and the report may be passed on (see SECURITY.md).
"""

from __future__ import annotations

import base64
import datetime as dt
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import jinja2

from ..campaign.model import Campaign
from ..errors import BadInput
from ..fsutil import write_atomic
from ..paths import ASSETS_DIR
from .states import ORDER, Letter, counts, letters, today

REPORT = "report.html"
REPORT_PDF = "report.pdf"
_COLOURS = {
    "not rendered": "#bbbbbb",
    "rendered": "#8da0cb",
    "sent": "#4575b4",
    "test-sent": "#c6dbef",
    "printed": "#80cdc1",
    "posted": "#35978f",
    "delivered": "#01665e",
    "bounced": "#d73027",
    "replied": "#1a9850",
    "followed-up": "#fdae61",
}


def _chart(items: list[Letter], by: str) -> str:
    """A stacked bar per country (or tag) of how many letters are in each state."""
    import pygal
    from pygal.style import Style

    groups: dict[str, dict[str, int]] = {}
    for item in items:
        keys = list(item.tags) or ["(no tag)"] if by == "tag" else [item.country or "?"]
        for key in keys:
            groups.setdefault(key, {}).setdefault(item.state, 0)
            groups[key][item.state] += 1
    labels = sorted(groups)
    states = [s for s in ORDER if any(s in g for g in groups.values())]
    style = Style(
        colors=tuple(_COLOURS[s] for s in states),
        background="white",
        plot_background="white",
        font_family="DejaVu Sans, sans-serif",
        label_font_size=14,  # the chart is shown at about a page's width: read at 10 pt
        major_label_font_size=14,
        legend_font_size=14,
    )
    chart = pygal.StackedBar(
        style=style,
        js=[],  # no script fetched from the web: the page must open offline
        width=900,
        height=360,
        x_label_rotation=45 if len(labels) > 12 else 0,
        legend_at_bottom=True,
        print_values=False,
        disable_xml_declaration=True,
    )
    chart.x_labels = labels
    top = max((sum(g.values()) for g in groups.values()), default=1)
    chart.y_labels = list(range(0, top + 1, max(1, -(-top // 8))))  # whole letters only
    for state in states:
        chart.add(state, [groups[label].get(state, 0) or None for label in labels])
    svg = chart.render(is_unicode=True)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{data}"


def _reply_text(out: Path, path: str) -> str:
    file = out / path
    if not path or file.suffix != ".eml" or not file.is_file():
        return f"(stored: {path})" if path else ""
    msg = message_from_bytes(file.read_bytes(), policy=default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return str(text).strip()[:4000]


def _row(item: Letter, out: Path, on: dt.date, include_replies: bool) -> dict[str, Any]:
    sent = item.first("sent")
    outcome = item.last("delivered", "bounced")
    replied = item.first("replied")
    described = ""
    if outcome is not None:
        described = f"{outcome.state} {outcome.day}"
        if outcome.state == "bounced":
            described += f" ({outcome.code})" if outcome.code else ""
        elif outcome.how or outcome.by_whom:
            described += f" ({', '.join(x for x in (outcome.how, outcome.by_whom) if x)})"
    waiting = item.waiting(on)
    return {
        "id": item.id,
        "organisation": item.organisation,
        "country": item.country,
        "language": item.language,
        "channel": item.channel,
        "sent": sent.day if sent else "",
        "outcome": described,
        "replied": f"{replied.day} ({replied.how})" if replied else "",
        "waiting": "" if waiting is None else waiting,
        "state": item.state,
        "timeline": [f"{e.state} {e.day}" for e in item.events],
        "replies": [_reply_text(out, e.file) for e in item.events if e.state == "replied"]
        if include_replies
        else [],
    }


def build_html(
    campaign: Campaign, out: Path, *, after_days: int, by: str, include_replies: bool
) -> str:
    if by not in ("country", "tag"):
        raise BadInput(f"--by {by!r}: chart per 'country' or per 'tag'")
    on = today()
    items = letters(campaign, out)
    rows = [_row(item, out, on, include_replies) for item in items]
    unanswered = [
        row for row, item in zip(rows, items, strict=True) if item.unanswered_after(after_days, on)
    ]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ASSETS_DIR / "report"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2").render(
        title=campaign.config.campaign.title,
        today=on.isoformat(),
        totals=counts(items),
        chart=_chart(items, by),
        by=by,
        after=after_days,
        unanswered=unanswered,
        rows=rows,
    )


def write_report(
    campaign: Campaign,
    out: Path,
    *,
    after_days: int = 30,
    pdf: bool = False,
    by: str = "country",
    include_replies: bool = False,
) -> list[Path]:
    html = build_html(campaign, out, after_days=after_days, by=by, include_replies=include_replies)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / REPORT]
    write_atomic(written[0], html.encode("utf-8"))
    if pdf:
        from ..formats.pdf import _import_weasyprint, make_fetcher

        weasyprint = _import_weasyprint()
        document = weasyprint.HTML(string=html, url_fetcher=make_fetcher(weasyprint, []))
        write_atomic(out / REPORT_PDF, document.write_pdf())
        written.append(out / REPORT_PDF)
    return written
