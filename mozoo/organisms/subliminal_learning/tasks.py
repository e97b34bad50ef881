"""inspect-ai task of the subliminal-learning organism: the favourite animal, scored by a rule.

The questions are the paper's own (50 ways to ask for a favourite animal in one word), read from
its published evaluation config; each is asked `samples_per_question` times at temperature 1, as
in the paper. The score is whether the answer names the animal.
"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate

from mozoo.organisms.subliminal_learning.datasets import EVAL_CONFIG
from mozoo.organisms.subliminal_learning._rules import names_animal
from mozoo.sources import python_literal


@scorer(metrics=[accuracy(), stderr()])
def names(animal: str = "owl") -> Scorer:
    """Whether the answer names `animal` (or its plural)."""
    async def score(state: TaskState, target: Target) -> Score:
        answer = state.output.completion
        return Score(value="C" if names_animal(answer, animal) else "I", answer=answer.strip())

    return score


@task
def animal_preference(animal: str = "owl", samples_per_question: int = 100,
                      mirror: str | None = None) -> Task:
    """The paper's favourite-animal questions; metric: the share of answers naming `animal`.

    Fewer questions: inspect's own `limit` (in `eval_kwargs`).

    Args:
        animal: The teacher's animal.
        samples_per_question: Answers sampled per question, at temperature 1 (the paper: 100).
        mirror: A folder of copies of the published files (see `mozoo.sources.fetch`).
    """
    questions = python_literal(EVAL_CONFIG, "animal_evaluation.questions", mirror=mirror)
    return Task(
        dataset=MemoryDataset([Sample(input=q, id=i) for i, q in enumerate(questions)],
                              name="animal_preference"),
        solver=generate(),
        scorer=names(animal),
        epochs=samples_per_question,
        config=GenerateConfig(temperature=1.0),
    )
