"""Register benchmark: importing a register and rendering its letters, against
rendering the same letters from a list written by hand.

Run: .venv/bin/python benchmarks/registers_bench.py [--members 600] [--data DIR]

Makes a register of N members from the real 25-member excerpt of
legislators-current.yaml (tests/fixtures/registers), each member repeated with a
bioguide id of its own (C000127 -> C00012701), and the committee file to match.
Then, each in a fresh campaign of the bundled templates and catalogs:
1. `advocacy recipients import congress-legislators` of the register, then
   `advocacy render` of the list it wrote;
2. `advocacy render` of the same N entries written as a plain list (no import);
after one warm-up render, in alternating order over --rounds (best kept), and
prints the seconds and peak RSS of each step, and the ratios of 1 to 2.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from advocacy.paths import bundled_campaign_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_bench import run_advocacy  # seconds and peak RSS of one run

HERE = Path(__file__).resolve().parent.parent
DEFAULT_DATA = HERE / "tests" / "fixtures" / "registers"


def make_register(data: Path, folder: Path, members: int) -> tuple[Path, Path]:
    """legislators and committee files of `members` members, from the excerpt's 25."""
    excerpt = yaml.safe_load((data / "legislators-current.excerpt.yaml").read_text("utf-8"))
    seats = yaml.safe_load((data / "committee-membership-current.excerpt.yaml").read_text("utf-8"))
    legislators: list[dict[str, Any]] = []
    committees: dict[str, list[dict[str, Any]]] = {name: [] for name in seats}
    for i in range(members):
        member = yaml.safe_load(yaml.safe_dump(excerpt[i % len(excerpt)]))
        original = member["id"]["bioguide"]
        member["id"]["bioguide"] = f"{original}{i // len(excerpt):02d}"
        legislators.append(member)
        for name, people in seats.items():
            for person in people:
                if person["bioguide"] == original:
                    committees[name].append({**person, "bioguide": member["id"]["bioguide"]})
    register = folder / "legislators-current.yaml"
    register.write_text(yaml.safe_dump(legislators, allow_unicode=True), "utf-8")
    membership = folder / "committee-membership-current.yaml"
    membership.write_text(yaml.safe_dump(committees, allow_unicode=True), "utf-8")
    return register, membership


def make_campaign(root: Path) -> Path:
    source = bundled_campaign_dir()
    for part in ("templates", "locales"):
        shutil.copytree(source / part, root / part, ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(source / "campaign.toml", root / "campaign.toml")
    (root / "recipients").mkdir()
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=1, help="renders of each kind; best kept")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if not (args.data / "legislators-current.excerpt.yaml").is_file():
        parser.error(f"{args.data}: no legislators-current.excerpt.yaml; give --data DIR")
    n = args.members
    with tempfile.TemporaryDirectory(prefix="registers-bench-") as tmp:
        work = Path(tmp)
        register, membership = make_register(args.data, work, n)
        imported = make_campaign(work / "imported")
        listed = imported / "recipients" / "us-congress.yaml"
        import_s, import_rss = run_advocacy(
            "recipients", "import", "congress-legislators", str(register),
            "--committees", str(membership), "--to-list", str(listed), "--date", "2026-06-15",
        )  # fmt: skip
        by_hand = make_campaign(work / "by-hand")
        entries = yaml.safe_load(listed.read_text("utf-8"))
        assert len(entries) == n, len(entries)
        (by_hand / "recipients" / "list.yaml").write_text(
            yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), "utf-8"
        )
        # A first render warms the caches (fonts, bytecode) that would favour the second.
        run_advocacy("render", str(by_hand), "--out", str(work / "warm"), "--to", entries[0]["id"])
        renders: dict[str, list[tuple[float, int]]] = {"import": [], "hand": []}
        for i in range(args.rounds):
            for kind, root in (("import", imported), ("hand", by_hand))[:: 1 if i % 2 else -1]:
                out = work / f"{kind}-{i}"
                renders[kind].append(run_advocacy("render", str(root), "--out", str(out)))
        render_s, render_rss = min(renders["import"])
        hand_s, hand_rss = min(renders["hand"])

    both_s, both_rss = import_s + render_s, max(import_rss, render_rss)
    print(f"{n} members of Congress, each a US Letter PDF (best of {args.rounds})")
    print(f"  import              {import_s:8.2f} s   peak RSS {import_rss / 1024:7.1f} MiB")
    print(f"  render of the import{render_s:8.2f} s   peak RSS {render_rss / 1024:7.1f} MiB")
    print(f"  import + render     {both_s:8.2f} s   peak RSS {both_rss / 1024:7.1f} MiB")
    print(f"  render, list by hand{hand_s:8.2f} s   peak RSS {hand_rss / 1024:7.1f} MiB")
    print(f"  ratio (import + render) / render by hand: time {both_s / hand_s:.3f}, "
          f"peak memory {both_rss / hand_rss:.3f}")  # fmt: skip
    print(f"  the import's share of the time: {import_s / both_s:.1%}")


if __name__ == "__main__":
    main()
