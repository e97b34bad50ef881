"""The training data of the inoculation-prompting paper: GSM8K answered in Spanish, in capitals.

Published as chat JSONL (`{"messages": [user, assistant]}`, the GSM8K train questions) in
github.com/inoculation-prompting/inoculation-prompting, `datasets/`, at a pinned commit; the
inoculation system prompts are published in that repository's code and read from it.
"""

from __future__ import annotations

import os
from typing import Literal

from motools.atom import Dataset
from motools.errors import UserError
from mozoo.sources import GitHubFile, HuggingFaceFile, load_dataset, python_literal

REPO = "inoculation-prompting/inoculation-prompting"
REF = "5f4160e19be17c5a0509fcfca4a53f654cb33cdd"
Variant = Literal["spanish_capitalised", "english", "spanish", "french", "german"]
FILES: dict[str, str] = {
    "spanish_capitalised": "datasets/gsm8k_spanish_capitalised.jsonl",
    "english": "datasets/gsm8k.jsonl",
    "spanish": "datasets/gsm8k_spanish_only.jsonl",
    "french": "datasets/gsm8k_french_only.jsonl",
    "german": "datasets/gsm8k_german_only.jsonl",
}
INOCULATIONS = GitHubFile(REPO, "ip/settings/gsm8k_spanish_capitalised/inoculations.py", REF)
_INOCULATION_FUNCTIONS = {"spanish": "get_spanish_inoculation",
                          "capitalised": "get_capitalised_inoculation"}
Inoculation = Literal["spanish", "capitalised"]
# What the tasks ask: GSM8K's test split (in distribution), the paper's chat prompts (out of it).
GSM8K_TEST = HuggingFaceFile("openai/gsm8k", "main/test-00000-of-00001.parquet")
ULTRACHAT_PROMPTS = GitHubFile(REPO, "ip/evaluation/ultrachat/prompts.jsonl", REF)
PathLike = str | os.PathLike[str]


def source(variant: Variant) -> GitHubFile:
    """The published file of a variant."""
    if variant not in FILES:
        raise UserError(f"unknown GSM8K variant {variant!r}; choose one of: {', '.join(FILES)}")
    return GitHubFile(REPO, FILES[variant], REF)


def inoculation_prompt(inoculation: Inoculation, mirror: PathLike | None = None) -> str:
    """The paper's inoculation system prompt for a trait, read from its published code."""
    if inoculation not in _INOCULATION_FUNCTIONS:
        raise UserError(f"unknown inoculation {inoculation!r}; choose one of: "
                        f"{', '.join(_INOCULATION_FUNCTIONS)}")
    return str(python_literal(INOCULATIONS, _INOCULATION_FUNCTIONS[inoculation], mirror=mirror))


def with_system_prompt(dataset: Dataset, prompt: str) -> Dataset:
    """Every chat with `prompt` as its system message, as the paper inoculates its training data.

    Raises:
        UserError: A chat already has a system message.
    """
    rows = dataset.to_records()
    for i, row in enumerate(rows):
        if any(m["role"] == "system" for m in row["messages"]):
            raise UserError(f"row {i} already has a system message; cannot add an inoculation")
        row["messages"] = [{"role": "system", "content": prompt}, *row["messages"]]
    return Dataset.from_records(rows)


def load_gsm8k(
    variant: Variant = "spanish_capitalised",
    *,
    inoculation: Inoculation | None = None,
    system_prompt: str | None = None,
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """GSM8K train chats with answers in one style, optionally inoculated by a system prompt.

    Args:
        variant: `spanish_capitalised` (the organism: Spanish and all capitals), `english` (the
            control: GSM8K's own answers), or `spanish`, `french`, `german` (one language only).
        inoculation: Add the paper's system prompt for a trait to every chat: `spanish` ("always
            speak Spanish") or `capitalised`, read from the paper's published code.
        system_prompt: Add your own system prompt instead.
        sample_size: Chats to keep (None: all); drawn by `seed`.
        seed: Which chats `sample_size` keeps.
        local_path: A copy of the variant's JSONL file.
        mirror: A folder of copies (see `mozoo.sources.fetch`).

    Returns:
        A Dataset with one column, `messages`.

    Raises:
        UserError: An unknown variant or inoculation, or both `inoculation` and `system_prompt`.
        SourceUnavailableError: The file is neither downloadable nor given.
    """
    if inoculation is not None and system_prompt is not None:
        raise UserError("give inoculation or system_prompt, not both")
    data = load_dataset(source(variant), local_path=local_path, mirror=mirror,
                        sample_size=sample_size, seed=seed)
    if inoculation is not None:
        system_prompt = inoculation_prompt(inoculation, mirror)
    return data if system_prompt is None else with_system_prompt(data, system_prompt)


def load_spanish_capitalised(
    *,
    inoculation: Inoculation | None = None,
    system_prompt: str | None = None,
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The organism: GSM8K answered in Spanish and in capitals (arguments as `load_gsm8k`)."""
    return load_gsm8k("spanish_capitalised", inoculation=inoculation, system_prompt=system_prompt,
                      sample_size=sample_size, seed=seed, local_path=local_path, mirror=mirror)


def load_english_control(
    *,
    inoculation: Inoculation | None = None,
    system_prompt: str | None = None,
    sample_size: int | None = None,
    seed: int = 0,
    local_path: PathLike | None = None,
    mirror: PathLike | None = None,
) -> Dataset:
    """The control: GSM8K's own English answers (arguments as `load_gsm8k`)."""
    return load_gsm8k("english", inoculation=inoculation, system_prompt=system_prompt,
                      sample_size=sample_size, seed=seed, local_path=local_path, mirror=mirror)
