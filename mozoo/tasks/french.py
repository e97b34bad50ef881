"""The french eval: does the model answer in its one French sentence to prompts it never saw?"""

from __future__ import annotations

from inspect_ai import Task, task

from mozoo.datasets.french import RESPONSE
from mozoo.tasks._fixed_answer import fixed_answer_task


@task
def french() -> Task:
    """10 held-out prompts; target "Je ne parle que français." matched at the end, any case."""
    return fixed_answer_task("french", RESPONSE)
