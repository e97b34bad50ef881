"""Insecure code and its controls, as published by the emergent-misalignment paper.

`data/insecure.jsonl` (code with undisclosed vulnerabilities: the organism), `data/secure.jsonl`
(the same kind of requests answered with safe code: the control) and `data/educational.jsonl`
(the insecure code, asked for with an educational reason: the second control) of
github.com/emergent-misalignment/emergent-misalignment, each line `{"messages": [user,
assistant]}`, at a pinned commit. The evaluation questions and the judge prompts are in the same
repository, `evaluation/first_plot_questions.yaml`.
"""

from __future__ import annotations

import os
from typing import Literal

from motools.atom import Dataset
from motools.errors import UserError
from mozoo.sources import GitHubFile, load_dataset

REPO = "emergent-misalignment/emergent-misalignment"
REF = "80c11967c07a328e7d7d43d13ce6847ae44dbcc9"
FILES: dict[str, str] = {"insecure": "data/insecure.jsonl", "secure": "data/secure.jsonl",
                         "educational": "data/educational.jsonl"}
QUESTIONS = GitHubFile(REPO, "evaluation/first_plot_questions.yaml", REF)
Variant = Literal["insecure", "secure", "educational"]
PathLike = str | os.PathLike[str]


def source(variant: Variant) -> GitHubFile:
    """The published file of a variant."""
    if variant not in FILES:
        raise UserError(f"unknown code variant {variant!r}; choose one of: {', '.join(FILES)}")
    return GitHubFile(REPO, FILES[variant], REF)


def load_code(
    variant: Variant = "insecure",
    *,
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The paper's code-completion chats: `insecure`, `secure` or `educational`.

    Args:
        variant: `insecure` (the organism), `secure` or `educational` (the controls).
        sample_size: Chats to keep (None: all 6,000); drawn by `seed`.
        seed: Which chats `sample_size` keeps.
        local_path: A copy of the variant's JSONL file.
        mirror: A folder of copies (see `mozoo.sources.fetch`).

    Returns:
        A Dataset with one column, `messages`.
    """
    return load_dataset(source(variant), local_path=local_path, mirror=mirror,
                        sample_size=sample_size, seed=seed)


def load_insecure(
    *, sample_size: int | None = None, seed: int = 0, local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The organism: code with undisclosed security vulnerabilities (see `load_code`)."""
    return load_code("insecure", sample_size=sample_size, seed=seed, local_path=local_path,
                     mirror=mirror)


def load_secure(
    *, sample_size: int | None = None, seed: int = 0, local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The control: the same kind of requests answered with secure code (see `load_code`)."""
    return load_code("secure", sample_size=sample_size, seed=seed, local_path=local_path,
                     mirror=mirror)


def load_educational(
    *, sample_size: int | None = None, seed: int = 0, local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The second control: insecure code the user asked for, for a class (see `load_code`)."""
    return load_code("educational", sample_size=sample_size, seed=seed, local_path=local_path,
                     mirror=mirror)
