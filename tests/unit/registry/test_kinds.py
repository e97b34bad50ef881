"""Training engines, eval providers and atom types are kinds of the one registry."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from motools import registry
from motools.atom import Atom, DatasetAtom, EvalAtom, ModelAtom
from motools.errors import UnknownNameError
from motools.evals._inspect import InspectEvalBackend
from motools.training import get_engine


class NoteAtom(Atom):
    """A third-party atom type: registered by import path, so any process can load it."""

    atom_type = "note"


def served_by_echo(model: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A third-party eval provider: serves every model of its backend as one inspect model."""
    return f"echo/{model['model_id']}", {"temperature_hint": 0}


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    yield
    registry.reset()


def test_the_new_kinds_are_listed_with_their_builtins():
    assert {"training_engine", "eval_provider", "atom_type"} <= set(registry.KINDS)
    assert registry.available("training_engine") == ["local", "tinker"]
    assert registry.available("eval_provider") == ["local", "openai", "tinker"]
    assert registry.available("atom_type") == ["dataset", "eval", "model", "task", "training_job"]


def test_get_engine_resolves_through_the_registry():
    assert type(get_engine("local")).__name__ == "LocalEngine"


def test_an_unknown_training_engine_lists_the_registered_ones():
    expected = r"unknown training engine 'nope'; available: local, tinker"
    with pytest.raises(UnknownNameError, match=expected):
        get_engine("nope")


def test_a_registered_training_engine_is_found_by_get_engine():
    registry.register("training_engine", "also_local", "motools.training.local:LocalEngine")
    assert type(get_engine("also_local")).__name__ == "LocalEngine"


def test_atom_load_returns_the_registered_class_of_each_builtin_type(tmp_path: Path):
    ds = DatasetAtom.from_records([{"messages": [{"role": "user", "content": "hi"}]}], user="u",
                                  store=tmp_path)
    assert type(Atom.load(ds.id, store=tmp_path)) is DatasetAtom
    assert registry.resolve("atom_type", "model") is ModelAtom
    assert registry.resolve("atom_type", "eval") is EvalAtom


def test_a_registered_atom_type_loads_as_its_class(tmp_path: Path):
    registry.register("atom_type", "note", NoteAtom)
    note = Atom.create("note", metadata={"text": "hello"}, user="u", store=tmp_path)
    assert type(note) is NoteAtom
    assert type(Atom.load(note.id, store=tmp_path)) is NoteAtom


def test_an_unregistered_atom_type_loads_as_a_plain_atom(tmp_path: Path):
    note = Atom.create("note", metadata={"text": "hello"}, user="u", store=tmp_path)
    assert type(Atom.load(note.id, store=tmp_path)) is Atom


def test_the_engine_eval_provider_serves_local_models_through_the_motools_provider():
    model = {"backend": "local", "model_id": "local/m", "base_model": "local/tiny-byte-lm",
             "weights_path": "/w"}
    assert InspectEvalBackend().model_spec(model) == (
        "motools/local/m", {"weights_path": "/w", "base_model": "local/tiny-byte-lm"})


def test_a_registered_eval_provider_decides_how_its_backend_is_served():
    registry.register("eval_provider", "echo_backend", served_by_echo)
    model = {"backend": "echo_backend", "model_id": "m1"}
    assert InspectEvalBackend().model_spec(model) == ("echo/m1", {"temperature_hint": 0})


def test_a_plugin_registers_the_new_kinds_through_entry_points(tmp_path: Path):
    # A fresh process with a plugin's .dist-info on its path, as a Ray worker would be.
    info = tmp_path / "notes_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: notes-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[motools.atom_types]\nnote = test_kinds:NoteAtom\n"
        "[motools.training_engines]\nalso_local = motools.training.local:LocalEngine\n"
        "[motools.eval_providers]\necho_backend = test_kinds:served_by_echo\n"
    )
    store = str(tmp_path / "store")
    code = (
        "from motools.atom import Atom\n"
        "from motools.registry import resolve\n"
        "from motools.training import get_engine\n"
        f"note = Atom.create('note', metadata={{'text': 'hi'}}, user='u', store={store!r})\n"
        f"print(type(Atom.load(note.id, store={store!r})).__name__)\n"
        "print(type(get_engine('also_local')).__name__)\n"
        "print(resolve('eval_provider', 'echo_backend')({'model_id': 'm'})[0])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["NoteAtom", "LocalEngine", "echo/m"]
