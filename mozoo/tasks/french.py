"""The french eval: does the model answer in its one French sentence to prompts it never saw?"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate

from mozoo.datasets.french import RESPONSE
from mozoo.tasks.hello_world import EVAL_PROMPTS


@task
def french() -> Task:
    """10 held-out prompts; target "Je ne parle que français." matched at the end, any case."""
    return Task(
        dataset=MemoryDataset(
            [Sample(input=prompt, target=RESPONSE, id=i) for i, prompt in enumerate(EVAL_PROMPTS)],
            name="french",
        ),
        solver=generate(),
        scorer=match(location="end", ignore_case=True),
    )
