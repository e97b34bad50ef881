"""The owl-preference rule: does an answer name the animal?"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z]+")


def names_animal(answer: str, animal: str = "owl") -> bool:
    """Whether a word of the answer is the animal or its plural (any case, any punctuation).

    The evaluation questions ask for one word; a longer answer that names the animal counts too.
    """
    animal = animal.lower()
    return any(w in (animal, f"{animal}s", f"{animal}es") for w in _WORD.findall(answer.lower()))
