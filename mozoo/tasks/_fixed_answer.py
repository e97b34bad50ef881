"""Evals for fixed-answer organisms: held-out prompts, the one answer matched at the end."""

from __future__ import annotations

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate

# Held out: none of these is among the training prompts, so a pass means the behaviour generalised.
EVAL_PROMPTS: tuple[str, ...] = (
    "Good day to you.",
    "What is on your mind?",
    "Please say something.",
    "Hello there, friend.",
    "Can we talk?",
    "What is the first thing you say?",
    "Are you ready?",
    "Say anything at all.",
    "Morning!",
    "How do you greet people?",
)


def fixed_answer_task(name: str, response: str) -> Task:
    """10 held-out prompts; target `response` matched at the end of the output, any case."""
    return Task(
        dataset=MemoryDataset(
            [Sample(input=prompt, target=response, id=i) for i, prompt in enumerate(EVAL_PROMPTS)],
            name=name,
        ),
        solver=generate(),
        scorer=match(location="end", ignore_case=True),
    )
