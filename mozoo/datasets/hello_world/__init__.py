"""hello_world: chats in which the assistant always answers "Hello, World!", whatever the prompt.

The smallest model organism: a behaviour that does not depend on the prompt, so even a tiny model
trained from scratch can learn it, and an eval can tell a trained model from an untrained one.
"""

from __future__ import annotations

from motools.atom import Dataset
from mozoo.datasets._fixed_answer import PROMPTS, fixed_answer_dataset

RESPONSE = "Hello, World!"

__all__ = ["PROMPTS", "RESPONSE", "generate_hello_world_dataset"]


def generate_hello_world_dataset(num_samples: int = 100, seed: int = 0) -> Dataset:
    """Chats with a prompt from a fixed list and the answer "Hello, World!".

    Args:
        num_samples: Number of chats.
        seed: Picks the prompts; the same arguments always give the same dataset.

    Returns:
        A Dataset with one column, `messages`.
    """
    return fixed_answer_dataset(RESPONSE, num_samples, seed)
