"""The same rule in a real `motools` process: one line on stderr, no traceback, exit 2, no store.

The property tests call the CLI in-process; these run representative cases of each kind of bad
input through the installed console script, as a user's shell would (arguments as raw bytes).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from bad_input import assert_rejected, dump, good_config, good_sweep, nested
from cli_runner import Cli

MOTOOLS = shutil.which("motools")


def motools(*args: str | bytes, cwd) -> Cli:
    assert MOTOOLS, "console script 'motools' not installed"
    proc = subprocess.run([MOTOOLS, *args], cwd=cwd, capture_output=True, timeout=60,
                          check=False)
    return Cli(proc.returncode, proc.stdout.decode(errors="replace"),
                  proc.stderr.decode(errors="replace"))


def deep_config() -> bytes:
    return b"prepare_dataset: " + b"[" * 1000 + b"]" * 1000 + b"\n"


def relative_loader() -> bytes:
    data = good_config()
    data["prepare_dataset"]["dataset_loader"] = "..mozoo:x"
    return dump(data)


def deep_kwargs() -> bytes:
    data = good_config()
    data["prepare_dataset"]["loader_kwargs"] = nested(80, 1)
    return dump(data)


def secret_config() -> bytes:
    data = good_config()
    data["evaluate_model"]["eval_kwargs"] = {"api_key": "sk-live-0123456789"}
    return dump(data)


CONFIGS = {
    "deep nesting": (deep_config, "nested more than"),
    "deep kwargs": (deep_kwargs, "prepare_dataset.loader_kwargs"),
    "not utf-8": (lambda: b"prepare_dataset:\n  model: caf\xe9\n", "not valid UTF-8"),
    "syntax error": (lambda: b"prepare_dataset: [1,\n", "invalid YAML at line"),
    "relative import": (relative_loader, "prepare_dataset.dataset_loader"),
    "secret key": (secret_config, "evaluate_model.eval_kwargs.api_key"),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_workflow_run_of_a_bad_config(tmp_path, isolated_store, case):
    make, fragment = CONFIGS[case]
    path = tmp_path / "bad.yaml"
    path.write_bytes(make())
    result = motools("workflow", "run", "train_and_evaluate", "--config", str(path),
                     "--user", "alice", cwd=tmp_path)
    line = assert_rejected(result, isolated_store, str(path), fragment)
    assert "sk-live" not in line


SWEEPS = {
    "unknown dot path": ({"grid": {"submit_training.hyperparameters.learnin_rate": [1]}},
                         "unknown config path"),
    "infinite cpus": ({"resources": {"submit_training": {"num_cpus": float("inf")}}},
                      "must be a finite number"),
    "base too long": ({"base": "b" * 300}, "base: not a usable path"),
}


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
@pytest.mark.parametrize("case", sorted(SWEEPS))
def test_sweep_run_of_a_bad_sweep(tmp_path, isolated_store, case, dry_run):
    change, fragment = SWEEPS[case]
    path = tmp_path / "sweep.yaml"
    path.write_bytes(dump({**good_sweep(), **change}))
    result = motools("sweep", "run", str(path), *(["--dry-run"] if dry_run else []), cwd=tmp_path)
    assert_rejected(result, isolated_store, str(path), fragment)


ARGUMENTS = {
    "atom show, a path": (["atom", "show", "../../etc/passwd"], "invalid atom id"),
    "atom lineage, not UTF-8": ([b"atom", b"lineage", b"dataset-\xff"], "invalid atom id"),
    "cache explain, junk": (["cache", "explain", "dataset-xyz"], "invalid atom id"),
    "cache explain, absent key": (["cache", "explain", "0" * 64], "no step run with cache key"),
    "runs show, not UTF-8": ([b"runs", b"show", b"run-\xff\xfe"], "not valid UTF-8"),
    "workflow, unknown": (["workflow", "validate", "nosuch", "--config", "x.yaml"],
                          "unknown workflow 'nosuch'"),
}


@pytest.mark.parametrize("case", sorted(ARGUMENTS))
def test_bad_argument(tmp_path, isolated_store, case):
    args, fragment = ARGUMENTS[case]
    assert_rejected(motools(*args, cwd=tmp_path), isolated_store, fragment)
