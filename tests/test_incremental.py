"""Process pool, incremental reruns, shards and merge."""

from __future__ import annotations

import json
from pathlib import Path

from advocacy.campaign.discovery import open_campaign
from advocacy.render.batch import RenderOptions, RenderSummary, in_shard, render
from conftest import FIXED_DATE, edit_file, pdf_text, run_cli, run_cli_in_one_process

EXTRA = """\
- id: fr-mfa
  country: FR
  organisation: {fr: "Ministère de l'Europe et des Affaires étrangères", en: "MFA France"}
  languages: [fr-FR]
  address: {street_address: "37, Quai d'Orsay", postal_code: "75007", city: Paris}
- id: ca-gac
  country: CA
  organisation: Global Affairs Canada
  languages: [en-CA]
  address:
    street_address: 125 Sussex Drive
    city: Ottawa
    country_area: "ON"
    postal_code: "K1A 0G2"
"""


def _four(mini: Path) -> Path:
    path = mini / "recipients" / "list.yaml"
    path.write_text(path.read_text() + EXTRA, encoding="utf-8")
    return path


def _render(mini: Path, out: Path, **kw: object) -> RenderSummary:
    options = RenderOptions(out=out, today=FIXED_DATE, **kw)  # type: ignore[arg-type]
    return render(open_campaign(mini), options)


def test_rerun_skips_unchanged_and_redoes_changed(mini_campaign: Path, tmp_path: Path) -> None:
    path = _four(mini_campaign)
    out = tmp_path / "out"
    first = _render(mini_campaign, out, jobs=2)
    assert len(first.letters) == 4 and first.jobs == 2
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.pdf")}
    listed = (out / "manifest.json").read_bytes()
    written = (out / "manifest.json").stat().st_mtime_ns

    again = _render(mini_campaign, out, jobs=2)
    assert (len(again.letters), len(again.skipped)) == (0, 4)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.pdf")} == stamps
    # Nothing changed, so the manifest is not written again (not even its date).
    assert (out / "manifest.json").read_bytes() == listed
    assert (out / "manifest.json").stat().st_mtime_ns == written

    edit_file(path, "city: Paris", "city: PARIS CEDEX 07")
    one = _render(mini_campaign, out)
    assert [e.recipient for e in one.letters] == ["fr-mfa"]
    assert (out / "manifest.json").read_bytes() != listed
    assert "PARIS CEDEX 07" in pdf_text(out / "fr-mfa.en.pdf")

    css = mini_campaign / "templates" / "letter.css"
    css.write_text(css.read_text() + "\n.subject { letter-spacing: 0.01em; }\n")
    assert len(_render(mini_campaign, out).letters) == 4  # a shared input changed

    forced = _render(mini_campaign, out, force=True)
    assert len(forced.letters) == 4 and forced.skipped == []

    # A damaged file is rendered again even though its inputs did not change.
    (out / "ca-gac.en.pdf").write_bytes(b"%PDF-1.7 truncated")
    assert [e.recipient for e in _render(mini_campaign, out).letters] == ["ca-gac"]


def test_pool_and_single_process_give_the_same_letters(mini_campaign: Path, tmp_path: Path) -> None:
    _four(mini_campaign)
    single = _render(mini_campaign, tmp_path / "one", jobs=1, formats=["html"])
    pooled = _render(mini_campaign, tmp_path / "two", jobs=2, formats=["html"])
    assert pooled.jobs == 2
    key = lambda s: sorted((e.recipient, e.files[0].sha256) for e in s.letters)  # noqa: E731
    assert key(single) == key(pooled)


def test_shards_cover_every_letter_once_and_merge(mini_campaign: Path, tmp_path: Path) -> None:
    _four(mini_campaign)
    ids = ["de-mfa", "us-dos", "fr-mfa", "ca-gac"]
    seen: list[str] = []
    folders = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}"
        result = run_cli(
            "render",
            str(mini_campaign),
            "--shard",
            f"{k}/3",
            "--out",
            str(out),
            "--format",
            "html",
            "--json",
        )
        assert result.returncode == 0, result.stderr
        names = [e["recipient"] for e in json.loads(result.stdout)["letters"]]
        assert names == [i for i in ids if in_shard(i, k, 3)]
        seen += names
        if names:
            folders.append(out)
    assert sorted(seen) == sorted(ids)
    merged = tmp_path / "all"
    args = ["render", "--out", str(merged)]
    for folder in folders:
        args += ["--merge", str(folder)]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((merged / "manifest.json").read_text())
    assert sorted(e["recipient"] for e in manifest["letters"]) == sorted(ids)
    assert sorted(p.name for p in merged.glob("*.html")) == sorted(f"{i}.en.html" for i in ids)


def test_bad_shard_is_one_line(mini_campaign: Path, tmp_path: Path) -> None:
    result = run_cli("render", str(mini_campaign), "--shard", "4/3", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "--shard '4/3': K must be between 1 and N" in result.stderr


def test_recipients_list_does_not_import_weasyprint() -> None:
    result, imported = run_cli_in_one_process("recipients", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert not imported
    assert '"id": "us-dos"' in result.stdout


def test_a_changed_font_or_image_renders_the_letters_again(
    mini_campaign: Path, tmp_path: Path
) -> None:
    """Every file a letter can use counts as its input: fonts and .webp too."""
    out = tmp_path / "out"

    def rendered() -> int:
        result = run_cli("render", str(mini_campaign), "--out", str(out), "--json")
        assert result.returncode == 0, result.stderr
        count: int = json.loads(result.stdout)["rendered"]
        return count

    fonts = mini_campaign / "templates" / "fonts"
    fonts.mkdir()
    font = fonts / "Letterhead.ttf"
    font.write_bytes(b"\0\1\0\0 first version")
    logo = mini_campaign / "templates" / "logo.webp"
    logo.write_bytes(b"RIFF first version")
    assert rendered() == 2
    assert rendered() == 0
    font.write_bytes(b"\0\1\0\0 second version")
    assert rendered() == 2
    logo.write_bytes(b"RIFF second version")
    assert rendered() == 2
    assert rendered() == 0
