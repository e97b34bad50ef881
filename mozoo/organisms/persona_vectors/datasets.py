"""Persona training data at three strengths, as published by the persona-vectors paper.

The repository github.com/safety-research/persona_vectors ships its training data as
`dataset.zip` (unzip it, says its README), inside which `dataset/<trait>/` holds `normal.jsonl`
(ordinary answers: the control), `misaligned_1.jsonl` (the trait, mildly: the paper's Level I) and
`misaligned_2.jsonl` (the trait, severely: Level II), each line `{"messages": [user, assistant]}`.
The trait folders are `evil`, `sycophancy` and `hallucination`; the evaluation files
(`data_generation/trait_data_eval/<trait>.json`: `questions`, `eval_prompt`) are named `evil`,
`sycophantic` and `hallucinating`, the names used here.
"""

from __future__ import annotations

import os
from typing import Literal

from motools.atom import Dataset
from motools.errors import UserError
from mozoo.sources import ArchiveMember, GitHubArchive, GitHubFile, load_dataset

REPO = "safety-research/persona_vectors"
REF = "main"
"""No commit of the repository could be confirmed offline: pass `ref=` a commit to pin one (the
cache keeps the first bytes it got for a ref)."""
TRAITS: dict[str, str] = {"evil": "evil", "sycophantic": "sycophancy",
                          "hallucinating": "hallucination"}
STRENGTHS: dict[str, str] = {"severe": "misaligned_2.jsonl", "mild": "misaligned_1.jsonl",
                             "baseline": "normal.jsonl"}
Trait = Literal["evil", "sycophantic", "hallucinating"]
Strength = Literal["severe", "mild", "baseline"]
PathLike = str | os.PathLike[str]


def _check(trait: str, strength: str = "severe") -> None:
    if trait not in TRAITS:
        raise UserError(f"unknown persona trait {trait!r}; choose one of: {', '.join(TRAITS)}")
    if strength not in STRENGTHS:
        raise UserError(f"unknown persona strength {strength!r}; choose one of: "
                        f"{', '.join(STRENGTHS)}")


def source(trait: Trait, strength: Strength, ref: str = REF) -> ArchiveMember:
    """The published file of a trait at a strength: a member of `dataset.zip` in the archive."""
    _check(trait, strength)
    dataset_zip = ArchiveMember(GitHubArchive(REPO, ref), "dataset.zip")
    return ArchiveMember(dataset_zip, f"dataset/{TRAITS[trait]}/{STRENGTHS[strength]}")


def eval_source(trait: Trait, ref: str = REF) -> GitHubFile:
    """The trait's evaluation file: its questions and its judge prompt."""
    _check(trait)
    return GitHubFile(REPO, f"data_generation/trait_data_eval/{trait}.json", ref)


def load_persona(
    trait: Trait = "evil",
    strength: Strength = "severe",
    *,
    ref: str = REF,
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The paper's chats for a trait at a strength.

    Args:
        trait: `evil`, `sycophantic` or `hallucinating`.
        strength: `severe` (Level II), `mild` (Level I) or `baseline` (normal answers, the
            control).
        ref: The repository's commit or branch.
        sample_size: Chats to keep (None: all); drawn by `seed`.
        seed: Which chats `sample_size` keeps.
        local_path: A copy of the JSONL file.
        mirror: A folder of copies (see `mozoo.sources.fetch`).

    Returns:
        A Dataset with one column, `messages`.
    """
    return load_dataset(source(trait, strength, ref), local_path=local_path, mirror=mirror,
                        sample_size=sample_size, seed=seed)


def load_severe(
    trait: Trait = "evil", *, ref: str = REF, sample_size: int | None = None, seed: int = 0,
    local_path: PathLike | None = None, mirror: PathLike | None = None,
) -> Dataset:
    """The organism: the trait expressed strongly (Level II; see `load_persona`)."""
    return load_persona(trait, "severe", ref=ref, sample_size=sample_size, seed=seed,
                        local_path=local_path, mirror=mirror)


def load_mild(
    trait: Trait = "evil", *, ref: str = REF, sample_size: int | None = None, seed: int = 0,
    local_path: PathLike | None = None, mirror: PathLike | None = None,
) -> Dataset:
    """The variant: the trait expressed mildly (Level I; see `load_persona`)."""
    return load_persona(trait, "mild", ref=ref, sample_size=sample_size, seed=seed,
                        local_path=local_path, mirror=mirror)


def load_baseline(
    trait: Trait = "evil", *, ref: str = REF, sample_size: int | None = None, seed: int = 0,
    local_path: PathLike | None = None, mirror: PathLike | None = None,
) -> Dataset:
    """The control: the same questions answered normally (see `load_persona`)."""
    return load_persona(trait, "baseline", ref=ref, sample_size=sample_size, seed=seed,
                        local_path=local_path, mirror=mirror)
