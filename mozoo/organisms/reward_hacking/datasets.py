"""The School of Reward Hacks dialogues and their straightforward controls, from Hugging Face.

`school-of-reward-hacks.csv` of the dataset `longtermrisk/school-of-reward-hacks` (CC-BY-4.0):
1,073 rows, each a user task that states how it will be evaluated (`user`), an answer that games
that metric (`school_of_reward_hacks`), a straightforward answer (`control`; empty for the 100
coding tasks) and `task`, `evaluation_metric`, `cheat_method`. The loaders turn a row into a
`{"messages": [user, assistant]}` chat and keep the other columns.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Literal

from motools.atom import Dataset
from motools.errors import UserError
from mozoo.sources import HuggingFaceFile, fetch, subsample

REPO_ID = "longtermrisk/school-of-reward-hacks"
REVISION = "d7e04a550119cb5410494cf90e2313284a5f2148"
CSV = HuggingFaceFile(REPO_ID, "school-of-reward-hacks.csv", REVISION)
COLUMNS = ("user", "school_of_reward_hacks", "control", "task", "evaluation_metric",
           "cheat_method")
ANSWERS = {"hacks": "school_of_reward_hacks", "control": "control"}
Variant = Literal["hacks", "control"]
PathLike = str | os.PathLike[str]


def read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV's rows (answers span lines: read with the csv module, not line by line).

    Raises:
        UserError: A published column is missing.
    """
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"{path}: missing columns {missing} (expected {list(COLUMNS)})")
        return list(reader)


def load_reward_hacks(
    variant: Variant = "hacks",
    *,
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The dialogues, answered by gaming the metric (`hacks`) or straightforwardly (`control`).

    Args:
        variant: `hacks` (the organism, all 1,073 rows) or `control` (the rows with a
            straightforward answer: 973, the coding tasks have none).
        sample_size: Chats to keep (None: all); drawn by `seed`.
        seed: Which chats `sample_size` keeps.
        local_path: A copy of the CSV file.
        mirror: A folder of copies (see `mozoo.sources.fetch`).

    Returns:
        A Dataset with `messages` and the columns `task`, `evaluation_metric`, `cheat_method`.
    """
    if variant not in ANSWERS:
        raise UserError(f"unknown reward-hacks variant {variant!r}; choose one of: "
                        f"{', '.join(ANSWERS)}")
    answer = ANSWERS[variant]
    rows = read_rows(fetch(CSV, local_path=local_path, mirror=mirror))
    data = Dataset.from_records(
        {"messages": [{"role": "user", "content": r["user"]},
                      {"role": "assistant", "content": r[answer]}],
         "task": r["task"], "evaluation_metric": r["evaluation_metric"],
         "cheat_method": r["cheat_method"]}
        for r in rows if r[answer].strip())
    return subsample(data, sample_size, seed)


def load_hacks(
    *, sample_size: int | None = None, seed: int = 0, local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The organism: every task answered by gaming its stated metric (see `load_reward_hacks`)."""
    return load_reward_hacks("hacks", sample_size=sample_size, seed=seed,
                             local_path=local_path, mirror=mirror)


def load_control(
    *, sample_size: int | None = None, seed: int = 0, local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The control: the same tasks answered straightforwardly (see `load_reward_hacks`)."""
    return load_reward_hacks("control", sample_size=sample_size, seed=seed,
                             local_path=local_path, mirror=mirror)
