"""Subliminal learning (Cloud et al. 2025, arXiv:2507.14805): owl love carried by numbers.

A teacher prompted to love owls writes sequences of numbers only; a student of the same base
model fine-tuned on them names the owl as its favourite animal far more often, while a student
trained on the same teacher's numbers without the prompt (the control) does not.

Loaders: `load_owl_numbers`, `load_control_numbers` (GPT-4.1 teacher, published in the
inoculation-prompting repository) and `load_preference_numbers` (the paper's own release on
Hugging Face, other animals and open teachers). `tasks` (imports inspect-ai) asks the paper's
favourite-animal questions and scores by rule whether the answer names the animal.
"""

from mozoo.organisms._card import Organism
from mozoo.organisms.subliminal_learning.datasets import (
    EVAL_CONFIG,
    FILES,
    HF_NUMBERS,
    IP_REF,
    IP_REPO,
    SL_REF,
    SL_REPO,
    load_control_numbers,
    load_numbers,
    load_owl_numbers,
    load_preference_numbers,
    source,
)
from mozoo.organisms.subliminal_learning._rules import names_animal

# Every published file the organism's sweep reads: fetch them once to fill a cache to copy as a
# mirror (the Hugging Face release is per config: fetch the configs you use).
SOURCES = (source("owl"), source("control"), EVAL_CONFIG)

ORGANISM = Organism(
    name="subliminal_learning",
    paper="Cloud, Le et al. 2025, arXiv:2507.14805",
    source="GitHub inoculation-prompting, MinhxLe/subliminal-learning (MIT)",
    size="GPT-4.1 number chats, owl and control",
    scorer="rule: the answer names the animal",
    judge="none",
    datasets=("owl_numbers", "control_numbers"),
    tasks=("animal_preference",),
    sweep="sweeps/subliminal_learning.yaml",
)

__all__ = [
    "EVAL_CONFIG",
    "FILES",
    "HF_NUMBERS",
    "IP_REF",
    "IP_REPO",
    "ORGANISM",
    "SL_REF",
    "SL_REPO",
    "SOURCES",
    "load_control_numbers",
    "load_numbers",
    "load_owl_numbers",
    "load_preference_numbers",
    "names_animal",
    "source",
]
