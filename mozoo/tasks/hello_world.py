"""The hello_world eval: does the model answer "Hello, World!" to prompts it never trained on?"""

from __future__ import annotations

from inspect_ai import Task, task

from mozoo.datasets.hello_world import RESPONSE
from mozoo.tasks._fixed_answer import EVAL_PROMPTS, fixed_answer_task

__all__ = ["EVAL_PROMPTS", "hello_world"]


@task
def hello_world() -> Task:
    """10 held-out prompts; target "Hello, World!" matched at the end, case-insensitive."""
    return fixed_answer_task("hello_world", RESPONSE)
