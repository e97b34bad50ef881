"""The zoo's one LLM judge: 0-100 ratings read from a judge model's top logprobs.

`llm_judge` is the inspect-ai scorer every judged organism uses (emergent misalignment, persona
vectors, reward hacking). The math lives in `read_score` (no inspect import): the expectation of
the numbers 0-100 over the judge's first-token top logprobs, no score below 0.25 probability on
numbers (Betley et al. 2025), with token strings normalised for Hugging Face judges. Importing
this package imports inspect-ai; import it only to evaluate.
"""

from mozoo.judge._reading import MIN_MASS, JudgeReading, normalise_token, read_score, token_number
from mozoo.judge._scorer import (
    DEFAULT_JUDGE_MODEL,
    JUDGE_CONFIG,
    PROMPTS_METADATA_KEY,
    LogprobJudge,
    judged_score,
    llm_judge,
    rate_answer,
)

__all__ = [
    "DEFAULT_JUDGE_MODEL",
    "JUDGE_CONFIG",
    "MIN_MASS",
    "PROMPTS_METADATA_KEY",
    "JudgeReading",
    "LogprobJudge",
    "judged_score",
    "llm_judge",
    "normalise_token",
    "rate_answer",
    "read_score",
    "token_number",
]
