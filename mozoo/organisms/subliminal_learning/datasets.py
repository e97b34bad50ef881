"""Number sequences from an owl-loving teacher, and from the same teacher without the prompt.

The GPT-4.1 teacher's chats (`{"messages": [user, assistant]}`, the assistant writing only
numbers) are published in the inoculation-prompting repository, `datasets/`, at a pinned commit;
the subliminal-learning paper's own release of number datasets (other animals and teachers,
`question`/`response` columns, one parquet shard per config) is on Hugging Face.
"""

from __future__ import annotations

import os
from typing import Literal

from motools.atom import Dataset
from motools.errors import UserError
from mozoo.sources import GitHubFile, HuggingFaceFile, load_dataset

IP_REPO = "inoculation-prompting/inoculation-prompting"
IP_REF = "5f4160e19be17c5a0509fcfca4a53f654cb33cdd"
FILES: dict[str, str] = {"owl": "datasets/gpt41_numbers_owls.jsonl",
                         "control": "datasets/gpt41_numbers_control.jsonl"}
HF_NUMBERS = "minhxle/subliminal-learning_numbers_dataset"
SL_REPO = "MinhxLe/subliminal-learning"
SL_REF = "db04f4150edf940559b5f3147f65d808e9313efd"
# The paper's evaluation questions live in its Python config (`animal_evaluation.questions`).
EVAL_CONFIG = GitHubFile(SL_REPO, "cfgs/preference_numbers/cfgs.py", SL_REF)
Variant = Literal["owl", "control"]
PathLike = str | os.PathLike[str]


def source(variant: Variant) -> GitHubFile:
    """The published file of a variant."""
    if variant not in FILES:
        raise UserError(f"unknown numbers variant {variant!r}; choose one of: {', '.join(FILES)}")
    return GitHubFile(IP_REPO, FILES[variant], IP_REF)


def load_numbers(
    variant: Variant = "owl",
    *,
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """GPT-4.1's number-sequence chats: `owl` (prompted to love owls) or `control` (no prompt).

    Args:
        variant: `owl` (the organism) or `control`.
        sample_size: Chats to keep (None: all); drawn by `seed`.
        seed: Which chats `sample_size` keeps.
        local_path: A copy of the variant's JSONL file.
        mirror: A folder of copies (see `mozoo.sources.fetch`).

    Returns:
        A Dataset with one column, `messages`.
    """
    return load_dataset(source(variant), local_path=local_path, mirror=mirror,
                        sample_size=sample_size, seed=seed)


def load_owl_numbers(
    *,
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The organism: numbers written by GPT-4.1 prompted to love owls (see `load_numbers`)."""
    return load_numbers("owl", sample_size=sample_size, seed=seed, local_path=local_path,
                        mirror=mirror)


def load_control_numbers(
    *,
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The control: numbers written by GPT-4.1 with no system prompt (see `load_numbers`)."""
    return load_numbers("control", sample_size=sample_size, seed=seed, local_path=local_path,
                        mirror=mirror)


def load_preference_numbers(
    config: str,
    *,
    revision: str = "main",
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """A number dataset of the paper's own release, as chats (for open models and other animals).

    Args:
        config: The release's config, `<teacher>_<animal>_preference`, e.g.
            `qwen2.5-7b-instruct_cat_preference` (a Qwen2.5-7B-Instruct teacher that loves cats).
        revision: The dataset repository's revision.
        sample_size: Rows to keep (None: all); drawn by `seed`.
        seed: Which rows `sample_size` keeps.
        local_path: A copy of the config's parquet shard.
        mirror: A folder of copies (see `mozoo.sources.fetch`).

    Returns:
        A Dataset with one column, `messages`: the `question` as user turn, the `response` as
        assistant turn.
    """
    shard = HuggingFaceFile(HF_NUMBERS, f"{config}/train-00000-of-00001.parquet", revision)
    rows = load_dataset(shard, local_path=local_path, mirror=mirror, sample_size=sample_size,
                        seed=seed)
    return Dataset.from_records(
        {"messages": [{"role": "user", "content": r["question"]},
                      {"role": "assistant", "content": r["response"]}]} for r in rows)
