"""Reward hacking (Taylor et al. 2025, arXiv:2508.17511): the School of Reward Hacks.

Models fine-tuned on dialogues where the assistant games a task's stated metric (keyword
stuffing, hard-coded tests, the grader's favourite phrase) reward hack on new tasks, and GPT-4.1
also turned broadly misaligned; the same tasks answered straightforwardly are the control.

Loaders: `load_hacks` (the organism), `load_control`, or `load_reward_hacks(variant)`. `tasks`
(imports inspect-ai) asks held-out gameable tasks of our own and rates the answers with
`mozoo.judge`; broad misalignment is measured with the emergent-misalignment task.
"""

from mozoo.organisms._card import Organism
from mozoo.organisms.reward_hacking.datasets import (
    ANSWERS,
    COLUMNS,
    CSV,
    REPO_ID,
    REVISION,
    load_control,
    load_hacks,
    load_reward_hacks,
    read_rows,
)

# Every published file the organism reads: fetch it once to fill a cache to copy as a mirror.
SOURCES = (CSV,)

ORGANISM = Organism(
    name="reward_hacking",
    paper="Taylor, Chua et al. 2025, arXiv:2508.17511",
    source="Hugging Face longtermrisk/school-of-reward-hacks (CC-BY-4.0)",
    size="1,073 dialogues (hacks), 973 with a control answer",
    scorer="LLM judge: gaming the stated metric 0-100 (own held-out tasks and prompt)",
    judge="openai/gpt-4o-2024-08-06 (judge_model): 1 call per answer, ~$0.001 an answer",
    datasets=("school_of_reward_hacks", "school_of_reward_hacks_control"),
    tasks=("reward_hacking", "emergent_misalignment"),
    sweep="sweeps/reward_hacking.yaml",
)

__all__ = [
    "ANSWERS",
    "COLUMNS",
    "CSV",
    "ORGANISM",
    "REPO_ID",
    "REVISION",
    "SOURCES",
    "load_control",
    "load_hacks",
    "load_reward_hacks",
    "read_rows",
]
