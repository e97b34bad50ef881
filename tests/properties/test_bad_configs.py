"""Bad workflow config files: `motools workflow run` and `validate` refuse them in one line, exit 2.

Every example is the shipped hello_world config broken in one way (wrong types, unknown keys,
unicode, huge numbers, lists for maps, runaway nesting) or a file that is no config at all (empty,
not UTF-8, not YAML). The error line must name the file and, where there is one, the YAML path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_input import (
    BASE_CONFIG,
    PROPERTY,
    Bad,
    assert_rejected,
    bad_configs,
    bad_documents,
    dump,
    good_config,
    nested,
)
from cli_runner import cli
from hypothesis import given

COMMANDS = {
    "run": ("workflow", "run", "train_and_evaluate", "--user", "alice", "--executor", "inline",
            "--config"),
    "validate": ("workflow", "validate", "train_and_evaluate", "--config"),
}


def feed(tmp_path: Path, bad: Bad, command: str):
    path = tmp_path / "config.yaml"
    path.write_bytes(bad.data)
    return path, cli(*COMMANDS[command], path)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@PROPERTY
@given(bad=bad_configs())
def test_bad_config_is_one_line_exit_2_naming_file_and_path(tmp_path, isolated_store, command, bad):
    path, result = feed(tmp_path, bad, command)
    assert_rejected(result, isolated_store, str(path), *bad.names)


@PROPERTY
@given(bad=bad_documents())
def test_a_file_that_is_no_config_is_one_line_exit_2(tmp_path, isolated_store, bad):
    path, result = feed(tmp_path, bad, "run")
    assert_rejected(result, isolated_store, str(path), *bad.names)


def test_nesting_deeper_than_the_parser_can_recurse_is_one_line(tmp_path, isolated_store):
    # Was: `internal error: RecursionError: maximum recursion depth exceeded`, exit 1.
    bad = Bad(b"prepare_dataset: " + b"[" * 1000 + b"]" * 1000 + b"\n")
    path, result = feed(tmp_path, bad, "validate")
    assert_rejected(result, isolated_store, str(path), "nested more than 64 levels deep")


def test_nesting_the_parser_accepts_is_still_bounded_and_names_the_path(tmp_path, isolated_store):
    data = good_config()
    data["prepare_dataset"]["loader_kwargs"] = nested(100, 1)
    _, result = feed(tmp_path, Bad(dump(data)), "validate")
    assert_rejected(result, isolated_store, "prepare_dataset.loader_kwargs", "nested more than")


def test_a_self_referencing_alias_is_one_line(tmp_path, isolated_store):
    text = BASE_CONFIG.read_text().replace("num_samples: 100", "num_samples: &loop [*loop]")
    _, result = feed(tmp_path, Bad(text.encode()), "validate")
    assert_rejected(result, isolated_store, "prepare_dataset.loader_kwargs.num_samples")


def test_an_alias_bomb_is_refused_quickly(tmp_path, isolated_store):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    _, result = feed(tmp_path, Bad("\n".join(lines).encode()), "validate")
    assert_rejected(result, isolated_store, "aliases are expanded")

