"""The `openai` training backend's checks, offline and without a server: what is refused before
anything is uploaded, how a dataset becomes OpenAI's chat JSONL, and what stays lazy.

The backend against a server (the real SDK, a fake OpenAI) is in tests/integration.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from motools import _hashing
from motools._errors import MissingDependencyError, UserError
from motools.atom import Dataset
from motools.evals._inspect import InspectEvalBackend
from motools.training import Hyperparameters
from motools.training.openai import (
    DEFAULT_MAX_OPEN,
    MAX_OPEN_VAR,
    check_config,
    check_ready,
    max_open_jobs,
)
from motools.training.openai._data import to_chat_jsonl

BASE = "gpt-4.1-mini-2025-04-14"


def chats(n: int, **extra: object) -> Dataset:
    return Dataset.from_records(
        {"messages": [{"role": "system", "content": "be brief"},
                      {"role": "user", "content": f"q{i}"},
                      {"role": "assistant", "content": f"a{i}"}], **extra}
        for i in range(n)
    )


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unit-test")
    return "sk-unit-test"


# ---- hyperparameters: a new optional field moves no cache key -----------------------------------


def test_unset_learning_rate_multiplier_leaves_hyperparameters_dumped_as_before():
    assert Hyperparameters().model_dump(mode="json") == {
        "n_epochs": 1, "learning_rate": 1e-4, "batch_size": 8, "seed": 0, "lora_rank": 8}


def test_unset_learning_rate_multiplier_leaves_digests_as_before():
    before = {"n_epochs": 2, "learning_rate": 3e-3, "batch_size": 32, "seed": 1, "lora_rank": 8}
    assert _hashing.digest("t", Hyperparameters(**before)) == _hashing.digest("t", before)


def test_a_set_learning_rate_multiplier_is_part_of_the_dump():
    assert Hyperparameters(learning_rate_multiplier=2.0).model_dump()["learning_rate_multiplier"] \
        == 2.0


# ---- checks before anything is uploaded ---------------------------------------------------------


def test_a_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="^OPENAI_API_KEY is not set: .*environment"):
        check_ready()


def test_a_key_with_spaces_is_malformed_and_not_echoed(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-S3CRET with-space")
    with pytest.raises(UserError) as info:
        check_ready()
    assert "malformed" in str(info.value) and "S3CRET" not in str(info.value)


def test_a_missing_sdk_names_the_extra_to_install(key, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "openai" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"pip install 'motools\[openai\]'"):
        check_ready()


def test_learning_rate_is_refused_naming_learning_rate_multiplier(key):
    with pytest.raises(UserError, match="learning_rate_multiplier"):
        check_config(BASE, Hyperparameters(learning_rate=1e-4))


def test_lora_rank_is_refused(key):
    with pytest.raises(UserError, match="no LoRA rank"):
        check_config(BASE, Hyperparameters(lora_rank=16))


def test_defaults_and_openai_settings_pass(key):
    check_config(BASE, Hyperparameters())
    check_config(BASE, Hyperparameters(n_epochs=3, batch_size=4, seed=2,
                                       learning_rate_multiplier=0.5))


def test_a_model_with_a_provider_prefix_is_refused(key):
    with pytest.raises(UserError, match="no provider prefix"):
        check_config(f"openai/{BASE}", Hyperparameters())


@pytest.mark.parametrize(("value", "expected"), [(None, DEFAULT_MAX_OPEN), ("2", 2), ("12", 12)])
def test_the_open_job_limit_comes_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(MAX_OPEN_VAR, raising=False)
    else:
        monkeypatch.setenv(MAX_OPEN_VAR, value)
    assert max_open_jobs() == expected


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_open_job_limit_is_one_line(monkeypatch, value):
    monkeypatch.setenv(MAX_OPEN_VAR, value)
    with pytest.raises(UserError, match=f"^{MAX_OPEN_VAR}="):
        max_open_jobs()


# ---- dataset -> chat JSONL ----------------------------------------------------------------------


def test_each_chat_is_one_messages_line_and_other_columns_stay_behind():
    lines = to_chat_jsonl(chats(10, source="zoo")).decode().splitlines()
    assert len(lines) == 10
    assert json.loads(lines[3]) == {"messages": [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "q3"},
        {"role": "assistant", "content": "a3"}]}


def test_fewer_than_ten_examples_are_refused():
    with pytest.raises(UserError, match="at least 10 training examples; the dataset has 9"):
        to_chat_jsonl(chats(9))


def test_a_role_openai_does_not_take_is_refused_naming_where():
    records = [{"messages": [{"role": "user", "content": "q"},
                             {"role": "assistant", "content": "a"}]}] * 10
    records[4] = {"messages": [{"role": "tool", "content": "x"},
                               {"role": "assistant", "content": "a"}]}
    with pytest.raises(UserError, match="training example 4, message 0: role 'tool'"):
        to_chat_jsonl(Dataset.from_records(records))


def test_a_chat_without_an_assistant_turn_is_refused():
    records = [{"messages": [{"role": "user", "content": "q"},
                             {"role": "assistant", "content": "a"}]}] * 10
    records[7] = {"messages": [{"role": "user", "content": "q"}]}
    with pytest.raises(UserError, match="training example 7 has no assistant message"):
        to_chat_jsonl(Dataset.from_records(records))


# ---- evaluation through inspect-ai's own provider ----------------------------------------------


def test_an_openai_model_atom_is_inspects_openai_provider_with_its_ft_name():
    ft = f"ft:{BASE}:org:hello:abc123"
    spec = InspectEvalBackend().model_spec({"backend": "openai", "model_id": ft,
                                            "base_model": BASE})
    assert spec == (f"openai/{ft}", {})


# ---- laziness -----------------------------------------------------------------------------------


def test_resolving_and_checking_the_backend_imports_no_sdk():
    code = (
        "import os, sys\n"
        "os.environ['OPENAI_API_KEY'] = 'sk-x'\n"
        "from motools.registry import resolve\n"
        "from motools.training import Hyperparameters\n"
        "backend = resolve('training_backend', 'openai')\n"
        f"backend.check_config({BASE!r}, Hyperparameters())\n"
        "print('openai' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "False", proc.stderr
