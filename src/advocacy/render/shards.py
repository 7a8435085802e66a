"""`render --shard`: a stable share of the letters, the same on every machine.

`--shard K/N` names the share itself (1-based). `--shard auto` (or `auto/N`) reads
it from the batch engine that started the process:

- Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (0-based), the count from
  `auto/N` or `ADVOCACY_SHARDS`;
- Slurm job array: `SLURM_ARRAY_TASK_ID` (minus `SLURM_ARRAY_TASK_MIN`) and
  `SLURM_ARRAY_TASK_COUNT`;

and `--shard env:INDEX/COUNT` reads a 0-based index and the count from two
variables of the user's naming (a GitHub Actions matrix, any other scheduler).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import BadInput

SHARDS_VAR = "ADVOCACY_SHARDS"
K8S_INDEX = "JOB_COMPLETION_INDEX"
SLURM_ID, SLURM_MIN, SLURM_COUNT = (
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_COUNT",
)


@dataclass(frozen=True)
class Shard:
    """The `number`-th of `count` shares (1-based, as `--shard K/N` writes it)."""

    number: int
    count: int

    @property
    def index(self) -> int:
        """0-based, as Kubernetes and most engines count."""
        return self.number - 1

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"


def _whole(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise BadInput(f"{what} is {text!r}, not a whole number") from None


def _checked(number: int, count: int, given: str, source: str) -> Shard:
    if count < 1:
        raise BadInput(f"--shard {given!r}: the count of shards ({source}) must be at least 1")
    if not 1 <= number <= count:
        raise BadInput(
            f"--shard {given!r}: shard {number} of {count} ({source}) is out of range; "
            "K must be between 1 and N"
        )
    return Shard(number, count)


def _from_engine(text: str, count_text: str, env: Mapping[str, str]) -> Shard:
    if K8S_INDEX in env:
        counted = count_text or env.get(SHARDS_VAR, "")
        if not counted:
            raise BadInput(
                f"--shard {text!r}: {K8S_INDEX} is set but not the number of shards; "
                f"write --shard auto/N or set {SHARDS_VAR} (the Job's completions)"
            )
        index = _whole(env[K8S_INDEX], K8S_INDEX)
        count = _whole(counted, f"--shard {text!r}" if count_text else SHARDS_VAR)
        return _checked(index + 1, count, text, f"{K8S_INDEX}={index}")
    if SLURM_ID in env:
        task = _whole(env[SLURM_ID], SLURM_ID)
        first = _whole(env.get(SLURM_MIN, "0"), SLURM_MIN)
        if SLURM_COUNT not in env and not count_text:
            raise BadInput(f"--shard {text!r}: {SLURM_ID} is set but not {SLURM_COUNT}")
        count = _whole(env.get(SLURM_COUNT) or count_text, SLURM_COUNT)
        if count_text and _whole(count_text, f"--shard {text!r}") != count:
            raise BadInput(
                f"--shard {text!r}: the Slurm array has {count} tasks; write --shard auto"
            )
        # `--array=1-4` counts from 1, `--array=0-3` from 0: the array's first id is shard 1.
        return _checked(task - first + 1, count, text, f"{SLURM_ID}={task}")
    raise BadInput(
        f"--shard {text!r}: no batch engine found ({K8S_INDEX} of a Kubernetes Indexed Job "
        f"or {SLURM_ID} of a Slurm array); write --shard K/N or --shard env:INDEX/COUNT"
    )


def _from_variables(text: str, names: str, env: Mapping[str, str]) -> Shard:
    index_name, _, count_name = names.partition("/")
    if not index_name or not count_name:
        raise BadInput(
            f"--shard {text!r}: write env:INDEX/COUNT, the names of two variables that "
            "hold a 0-based shard index and the number of shards"
        )
    for name in (index_name, count_name):
        if name not in env:
            raise BadInput(f"--shard {text!r}: the variable {name} is not set")
    index = _whole(env[index_name], index_name)
    count = _whole(env[count_name], count_name)
    return _checked(index + 1, count, text, f"{index_name}={index}, {count_name}={count}")


def parse_shard(text: str, env: Mapping[str, str] | None = None) -> Shard:
    """`K/N`, `auto`, `auto/N` or `env:INDEX/COUNT` as the share of this process."""
    env = os.environ if env is None else env
    given = text.strip()
    if given == "auto" or given.startswith("auto/"):
        return _from_engine(given, given[5:], env)
    if given.startswith("env:"):
        return _from_variables(given, given[4:], env)
    try:
        k, n = (int(part) for part in given.split("/"))
    except ValueError:
        raise BadInput(
            f"--shard {text!r}: write K/N, e.g. 2/4 for the second of four, or auto"
        ) from None
    if not 1 <= k <= n:
        raise BadInput(f"--shard {text!r}: K must be between 1 and N")
    return Shard(k, n)


def in_shard(recipient_id: str, k: int, n: int) -> bool:
    """Stable across machines and runs: a hash of the id, not Python's hash()."""
    digest = hashlib.sha256(recipient_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def missing_line(counts: set[int], present: set[int], sources: int) -> str | None:
    """The merge's complaint when shards are absent, naming them, or None."""
    if len(counts) > 1:
        shown = ", ".join(str(c) for c in sorted(counts))
        return f"the folders are shards of different splits ({shown} shards); render them again"
    (count,) = counts
    missing = [k for k in range(1, count + 1) if k not in present]
    if not missing:
        return None
    named = ", ".join(f"{k}/{count} (index {k - 1})" for k in missing)
    return (
        f"{len(missing)} of {count} shard(s) missing: {named}; merged {sources} folder(s), "
        "render the missing shards or give their folders"
    )
