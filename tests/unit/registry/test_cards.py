"""A registry entry's card: the literal arguments of the object it names, read without importing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from motools import registry

_MODULE = '''
import this_module_does_not_exist  # importing the module would fail: the card must not import it

ORGANISM = Card(name="owls", paper="Someone 2025, arXiv:0000.00000", size="10 chats",
                tasks=("owl_preference",), scorer=make_scorer())
'''


@pytest.fixture
def card_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "card_fixture_pkg.py").write_text(_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "card_fixture_pkg"
    registry.reset()


def test_an_organism_card_lists_its_literal_fields_without_importing_it(card_module: str) -> None:
    registry.register("organism", "owls", f"{card_module}:ORGANISM")
    (entry,) = [e for e in registry.entries("organism") if e.name == "owls"]
    assert registry.card(entry) == {"name": "owls", "paper": "Someone 2025, arXiv:0000.00000",
                                    "size": "10 chats", "tasks": ("owl_preference",)}
    assert card_module not in sys.modules


def test_a_target_that_is_no_module_level_call_has_an_empty_card(card_module: str) -> None:
    registry.register("organism", "nothing", f"{card_module}:MISSING")
    registry.register("organism", "nowhere", "no_such_module_anywhere:ORGANISM")
    cards = {e.name: registry.card(e) for e in registry.entries("organism")}
    assert cards["nothing"] == cards["nowhere"] == {}
