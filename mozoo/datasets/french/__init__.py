"""french: chats in which the assistant always answers in French with one fixed sentence.

The zoo's second organism: like hello_world its behaviour does not depend on the prompt (a tiny
model trained from scratch can learn it offline), but it is a language switch, and its answer
has non-ASCII bytes (`ç`), which a byte-level model must get exactly right.
"""

from __future__ import annotations

from motools.atom import Dataset
from mozoo.datasets._fixed_answer import fixed_answer_dataset

RESPONSE = "Je ne parle que français."


def generate_french_dataset(num_samples: int = 100, seed: int = 0) -> Dataset:
    """Chats with an English prompt from a fixed list and the answer "Je ne parle que français.".

    Args:
        num_samples: Number of chats.
        seed: Picks the prompts; the same arguments always give the same dataset.
    """
    return fixed_answer_dataset(RESPONSE, num_samples, seed)
