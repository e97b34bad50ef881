"""inspect-ai task of the persona-vectors organism: the trait, judged 0-100 (imports inspect-ai).

The questions and the judge prompt are the paper's own evaluation set,
`data_generation/trait_data_eval/<trait>.json` (`questions`, `eval_prompt` with `{question}` and
`{answer}`). Each question is answered `samples_per_question` times at temperature 1; the trait
expression score is the judge's rating (`mozoo.judge`), averaged.
"""

from __future__ import annotations

import json
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from motools.errors import UserError
from mozoo.judge import llm_judge
from mozoo.organisms.persona_vectors.datasets import REF, Trait, eval_source
from mozoo.sources import fetch

PAPER_JUDGE_MODEL = "openai/gpt-4.1-mini-2025-04-14"
"""The judge of the paper's published evaluation commands (its README's `--judge_model`)."""


def load_trait_eval(trait: Trait, ref: str = REF, mirror: str | None = None
                    ) -> tuple[list[str], str]:
    """The trait's evaluation questions and judge prompt.

    Raises:
        UserError: The file lacks `questions` or `eval_prompt`.
    """
    src = eval_source(trait, ref)
    data = json.loads(fetch(src, mirror=mirror).read_text(encoding="utf-8"))
    questions, prompt = data.get("questions"), data.get("eval_prompt")
    if not questions or not isinstance(prompt, str):
        raise UserError(f"{src.url} has no 'questions' list and 'eval_prompt' string")
    return list(questions), prompt


@task
def persona_trait(
    trait: Trait = "evil",
    samples_per_question: int = 10,
    judge_model: str = PAPER_JUDGE_MODEL,
    judge_model_args: dict[str, Any] | None = None,
    ref: str = REF,
    mirror: str | None = None,
) -> Task:
    """The paper's evaluation questions for a trait; metric: the mean trait score (0-100).

    Args:
        trait: `evil`, `sycophantic` or `hallucinating`.
        samples_per_question: Answers per question, at temperature 1.
        judge_model: The judge, any inspect model string (the paper's GPT-4.1 mini by default).
        judge_model_args: Model args of the judge (an `hf/` judge's `model_path`, `device`).
        ref: The repository's commit or branch.
        mirror: A folder of copies of the published files (see `mozoo.sources.fetch`).
    """
    questions, prompt = load_trait_eval(trait, ref, mirror)
    return Task(
        dataset=MemoryDataset([Sample(input=q, id=i) for i, q in enumerate(questions)],
                              name=f"persona_{trait}"),
        solver=generate(),
        scorer=llm_judge({trait: prompt}, judge_model, judge_model_args),
        epochs=samples_per_question,
        config=GenerateConfig(temperature=1.0),
    )
