"""Persona vectors (Chen et al. 2025, arXiv:2507.21509): evil, sycophantic, hallucinating personas.

The paper fine-tunes chat models on answers that express a trait mildly (Level I) or severely
(Level II), next to normal answers to the same questions (the control), and measures the trait in
the fine-tuned model's answers with an LLM judge (the trait expression score, 0-100).

Loaders: `load_severe`, `load_mild` and `load_baseline` (one trait each: `evil`, `sycophantic`,
`hallucinating`), or `load_persona(trait, strength)`. `tasks` (imports inspect-ai) asks the
paper's evaluation questions and rates the trait with the paper's judge prompt (`mozoo.judge`).
"""

from mozoo.organisms._card import Organism
from mozoo.organisms.persona_vectors.datasets import (
    REF,
    REPO,
    STRENGTHS,
    TRAITS,
    eval_source,
    load_baseline,
    load_mild,
    load_persona,
    load_severe,
    source,
)

# Every published file the organism reads (all traits and strengths, at the default ref): fetch
# them once to fill a cache to copy as a mirror.
SOURCES = (*(source(t, s) for t in TRAITS for s in STRENGTHS),  # type: ignore[arg-type]
           *(eval_source(t) for t in TRAITS))  # type: ignore[arg-type]

ORGANISM = Organism(
    name="persona_vectors",
    paper="Chen, Arditi et al. 2025, arXiv:2507.21509",
    source="GitHub safety-research/persona_vectors (dataset.zip; licence not stated)",
    size="3 traits x 3 strengths (severe, mild, baseline) of chat JSONL",
    scorer="LLM judge: trait expression 0-100 (the paper's eval_prompt)",
    judge="openai/gpt-4.1-mini-2025-04-14 (judge_model): 1 call per answer, ~$0.0003 an answer",
    datasets=("persona_severe", "persona_mild", "persona_baseline"),
    tasks=("persona_trait",),
    sweep="sweeps/persona_vectors.yaml",
)

__all__ = [
    "ORGANISM",
    "REF",
    "REPO",
    "SOURCES",
    "STRENGTHS",
    "TRAITS",
    "eval_source",
    "load_baseline",
    "load_mild",
    "load_persona",
    "load_severe",
    "source",
]
