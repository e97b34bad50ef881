"""`Organism`: the card of a model organism, what `motools zoo list` shows about it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Organism:
    """A model organism of the zoo: the paper it reproduces and the parts that build it.

    Each organism package defines one at module level with literal arguments
    (`ORGANISM = Organism(name=..., ...)`) and registers it under the entry-point group
    `motools.organisms`; `motools zoo list` reads the literals without importing the package.

    Attributes:
        name: The registered name (also the package name under `mozoo.organisms`).
        paper: Authors, year and arXiv id.
        source: Where the training data and evaluation prompts are published.
        size: Rows of the training data (per variant).
        scorer: How the evaluation scores an answer.
        judge: The LLM judge and what it costs, or `none` for rule-scored organisms.
        datasets: Registered dataset names: the organism, its controls, its variants.
        tasks: Registered eval task names.
        sweep: The sweep file that trains the organism, its control and the baseline.
    """

    name: str
    paper: str
    source: str
    size: str
    scorer: str
    judge: str
    datasets: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    sweep: str = ""
