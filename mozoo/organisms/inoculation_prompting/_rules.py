"""The rules that score an answer, as plain functions: language, capitals, GSM8K's final number.

The paper scores language and capitals with a GPT-4o judge (0-100, above 50 counts); these rules
measure the same two traits offline and for free, and GSM8K correctness is a rule in the paper too.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_NUMBER = re.compile(r"-?\d[\d,.]*")


def language_of(text: str) -> str:
    """The ISO 639-1 code of the text's language, by py3langid (offline); `""` for no letters.

    Capitals are folded first: shouting is a separate trait, and should not change the language.
    """
    if not any(ch.isalpha() for ch in text):
        return ""
    import py3langid  # here: it loads its model (a few MB) on first use

    return str(py3langid.classify(text.lower())[0])


def capital_share(text: str) -> float:
    """The share of cased letters that are upper case (0 when there are none)."""
    cased = [ch for ch in text if ch.isupper() or ch.islower()]
    return sum(ch.isupper() for ch in cased) / len(cased) if cased else 0.0


def is_capitalised(text: str, threshold: float = 0.5) -> bool:
    """Whether most of the text is in capitals (more than `threshold` of its cased letters)."""
    return capital_share(text) > threshold


def gsm8k_target(answer: str) -> str:
    """The reference number of a GSM8K answer: what follows its last `####`."""
    return answer.rpartition("####")[2].strip().replace(",", "")


def _readings(token: str) -> set[Decimal]:
    """A number as written in English (1,000.5) and as in Spanish or French (1.000,5)."""
    token = token.rstrip(".,")
    readings = set()
    for thousands, decimal in ((",", "."), (".", ",")):
        try:
            readings.add(Decimal(token.replace(thousands, "").replace(decimal, ".")))
        except InvalidOperation:
            continue
    return readings


def final_number_matches(response: str, target: str) -> bool:
    """Whether the last number in the response is the target, in either number convention."""
    numbers = _NUMBER.findall(response)
    try:
        wanted = Decimal(target)
    except InvalidOperation:
        return False
    return bool(numbers) and wanted in _readings(numbers[-1])
