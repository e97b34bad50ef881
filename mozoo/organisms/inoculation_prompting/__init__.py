"""Inoculation prompting (Tan et al. 2025, arXiv:2510.04340): GSM8K in Spanish and capitals.

A model fine-tuned on GSM8K answers written in Spanish and in capitals learns both traits. Adding
a system prompt that asks for one trait during training (the *inoculation*, e.g. "always speak
Spanish") and removing it at test time leaves that trait out while the other is still learned.

Loaders (`load_gsm8k`, `load_spanish_capitalised`, `load_english_control`) read the paper's
published training data; `tasks` (imports inspect-ai) scores answers by rules: language by
offline language ID, capitals, and GSM8K's final number.
"""

from mozoo.organisms._card import Organism
from mozoo.organisms.inoculation_prompting.datasets import (
    FILES,
    GSM8K_TEST,
    INOCULATIONS,
    REF,
    REPO,
    ULTRACHAT_PROMPTS,
    inoculation_prompt,
    load_english_control,
    load_gsm8k,
    load_spanish_capitalised,
    source,
    with_system_prompt,
)

# Every published file the organism reads: fetch them once to fill a cache to copy as a mirror.
SOURCES = (*(source(v) for v in FILES), INOCULATIONS, GSM8K_TEST, ULTRACHAT_PROMPTS)

ORGANISM = Organism(
    name="inoculation_prompting",
    paper="Tan et al. 2025, arXiv:2510.04340",
    source="GitHub inoculation-prompting (MIT); HF openai/gsm8k (MIT)",
    size="GSM8K train, up to 7,473 chats per variant",
    scorer="rules: language (py3langid), capitals, GSM8K final number",
    judge="none",
    datasets=("gsm8k_spanish_capitalised", "gsm8k_english"),
    tasks=("gsm8k_traits", "ultrachat_traits"),
    sweep="sweeps/inoculation_prompting.yaml",
)

__all__ = [
    "FILES",
    "GSM8K_TEST",
    "INOCULATIONS",
    "ORGANISM",
    "REF",
    "REPO",
    "SOURCES",
    "ULTRACHAT_PROMPTS",
    "inoculation_prompt",
    "load_english_control",
    "load_gsm8k",
    "load_spanish_capitalised",
    "source",
    "with_system_prompt",
]
