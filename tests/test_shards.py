"""`render --shard auto` under the variables real batch engines set, and the merge.

Each shard is a real `advocacy render` process started with the variables a
Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job array
(SLURM_ARRAY_TASK_ID/COUNT) gives its pods or tasks; the merged folder must be,
file for file (sha256), the folder one unsharded render writes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advocacy.errors import BadInput
from advocacy.render.shards import parse_shard
from conftest import run_cli

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
  address: {street_address: 125 Sussex Drive, city: Ottawa, country_area: "ON",
            postal_code: "K1A 0G2"}
- id: pl-msz
  country: PL
  organisation: {pl: Ministerstwo Spraw Zagranicznych, en: Ministry of Foreign Affairs}
  languages: [pl-PL]
  address: {street_address: "al. J. Ch. Szucha 23", postal_code: "00-580", city: Warszawa}
"""
# Reproducible builds: the manifest's "generated" is this instant in every run.
REPRODUCIBLE = {"SOURCE_DATE_EPOCH": "1765324800"}
FORMATS = ("--format", "pdf", "--format", "html")
ADVOCACY = (sys.executable, "-m", "advocacy")


def _campaign(mini: Path) -> Path:
    path = mini / "recipients" / "list.yaml"
    path.write_text(path.read_text(encoding="utf-8") + EXTRA, encoding="utf-8")
    return mini


def _sums(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def _shards(campaign: Path, base: Path, envs: list[dict[str, str]], *extra: str) -> list[Path]:
    """One render process per environment, all at once, as the engine starts them."""
    folders = [base / f"shard-{i}" for i in range(len(envs))]
    procs = [
        subprocess.Popen(
            [*ADVOCACY, "render", str(campaign), "--out", str(out), "--shard", "auto", *extra],
            env={**os.environ, **REPRODUCIBLE, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out, env in zip(folders, envs, strict=True)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    return folders


def _merge(folders: list[Path], out: Path) -> subprocess.CompletedProcess[str]:
    args = ["render", "--out", str(out)]
    for folder in folders:
        args += ["--merge", str(folder)]
    return run_cli(*args, env=REPRODUCIBLE)


@pytest.fixture
def whole(mini_campaign: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The campaign and the sums of one unsharded render of it."""
    campaign = _campaign(mini_campaign)
    out = tmp_path / "whole"
    result = run_cli("render", str(campaign), "--out", str(out), *FORMATS, env=REPRODUCIBLE)
    assert result.returncode == 0, result.stderr
    sums = _sums(out)
    assert len([name for name in sums if name.endswith(".pdf")]) == 5
    return campaign, sums


def test_kubernetes_indexed_job_shards_merge_into_the_unsharded_render(
    whole: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    campaign, sums = whole
    envs = [{"JOB_COMPLETION_INDEX": str(i), "ADVOCACY_SHARDS": "4"} for i in range(4)]
    folders = _shards(campaign, tmp_path, envs, *FORMATS)
    # Every shard writes only its own letters, and says which share it is.
    names = [n for f in folders for n in _sums(f) if n != "manifest.json"]
    assert sorted(names) == sorted(n for n in sums if n != "manifest.json")

    merged = tmp_path / "merged"
    result = _merge(folders, merged)
    assert result.returncode == 0, result.stderr
    assert _sums(merged) == sums

    # A pod that never finished: the merge names it by its completion index.
    result = _merge([folders[0], folders[1], folders[3]], tmp_path / "partial")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in result.stderr
    assert "1 of 4 shard(s) missing: 3/4 (index 2)" in line
    assert not (tmp_path / "partial").exists()


def test_slurm_array_shards_merge_into_the_unsharded_render(
    whole: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    campaign, sums = whole
    # `sbatch --array=1-4`: task ids 1..4, the first is shard 1.
    envs = [
        {"SLURM_ARRAY_TASK_ID": str(i), "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"}
        for i in range(1, 5)
    ]
    folders = _shards(campaign, tmp_path, envs, *FORMATS)
    merged = tmp_path / "merged"
    result = _merge(folders, merged)
    assert result.returncode == 0, result.stderr
    assert _sums(merged) == sums


def test_merge_refuses_shards_of_other_inputs(mini_campaign: Path, tmp_path: Path) -> None:
    campaign = _campaign(mini_campaign)
    env = {"JOB_COMPLETION_INDEX": "0", "ADVOCACY_SHARDS": "2"}
    first = _shards(campaign, tmp_path / "a", [env], "--format", "html")[0]
    css = campaign / "templates" / "letter.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n.subject { color: #222; }\n", "utf-8")
    env = {"JOB_COMPLETION_INDEX": "1"}
    second = _shards(campaign, tmp_path / "b", [env], "--shard", "auto/2", "--format", "html")[0]
    result = _merge([first, second], tmp_path / "merged")
    assert result.returncode == 2
    assert "was rendered with another campaign inputs" in result.stderr
    assert str(second) in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "env", "shard"),
    [
        ("auto/4", {"JOB_COMPLETION_INDEX": "3"}, "4/4"),
        ("auto", {"JOB_COMPLETION_INDEX": "0", "ADVOCACY_SHARDS": "2"}, "1/2"),
        ("auto", {"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"}, "3/3"),
        ("env:JOB_INDEX/JOB_TOTAL", {"JOB_INDEX": "1", "JOB_TOTAL": "5"}, "2/5"),
        ("2/7", {}, "2/7"),
    ],
)
def test_shard_from_the_engine(text: str, env: dict[str, str], shard: str) -> None:
    assert str(parse_shard(text, env)) == shard


@pytest.mark.parametrize(
    ("text", "env", "said"),
    [
        ("auto", {}, "no batch engine found"),
        ("auto", {"JOB_COMPLETION_INDEX": "1"}, "write --shard auto/N or set ADVOCACY_SHARDS"),
        ("auto/2", {"JOB_COMPLETION_INDEX": "2"}, "shard 3 of 2 (JOB_COMPLETION_INDEX=2)"),
        ("auto", {"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"}, "not a whole"),
        ("env:I/N", {"I": "0"}, "the variable N is not set"),
        ("env:I", {}, "write env:INDEX/COUNT"),
    ],
)
def test_a_shard_that_cannot_be_read_is_one_line(text: str, env: dict[str, str], said: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_shard(text, env)
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_a_shard_folder_holds_one_share(mini_campaign: Path, tmp_path: Path) -> None:
    from advocacy.campaign.discovery import open_campaign
    from advocacy.render.batch import RenderOptions, render

    campaign = open_campaign(_campaign(mini_campaign))
    out = tmp_path / "shard"
    render(campaign, RenderOptions(out=out, shard="1/2", formats=["html"]))
    render(campaign, RenderOptions(out=out, shard="1/2", formats=["html"]))  # a rerun: fine
    for other in ("2/2", None):
        with pytest.raises(BadInput) as caught:
            render(campaign, RenderOptions(out=out, shard=other, formats=["html"]))
        now = f"shard {other}" if other else "a whole render"
        assert str(caught.value) == (
            f"{out}: holds the letters of shard 1/2, not of {now}; give each shard its own --out"
        )
