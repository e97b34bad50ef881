"""The hello_world eval: does the model answer "Hello, World!" to prompts it never trained on?"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate

from mozoo.datasets.hello_world import RESPONSE

# Held out: none of these is in the training prompts, so a pass means the behaviour generalised.
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


@task
def hello_world() -> Task:
    """10 held-out prompts; target "Hello, World!" matched at the end, case-insensitive."""
    return Task(
        dataset=MemoryDataset(
            [Sample(input=prompt, target=RESPONSE, id=i) for i, prompt in enumerate(EVAL_PROMPTS)],
            name="hello_world",
        ),
        solver=generate(),
        scorer=match(location="end", ignore_case=True),
    )
