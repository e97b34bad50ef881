"""Bad sweep files: `motools sweep run` (and `--dry-run`) refuse them in one line, exit 2.

Every example is a valid one-point sweep broken in one way (an unknown key or dot path, a wrong
type, an empty or uneven axis, a point value out of range, a bad `resources` entry, a missing
base, a credential) or a file that is no sweep at all. Nothing may run and nothing may be written.
"""

from __future__ import annotations

import pytest
from bad_input import PROPERTY, Bad, assert_rejected, bad_samples, bad_sweeps, dump, good_sweep
from cli_runner import cli
from hypothesis import given

# Inline: if a bad file ever slipped through, it would run in this process in a second rather
# than start Ray; the assertions would then fail on the exit code and the store.
MODES = {"run": ("--executor", "inline"), "dry-run": ("--dry-run",)}


def feed(tmp_path, bad: Bad, mode: str):
    path = tmp_path / "sweep.yaml"
    path.write_bytes(bad.data)
    return path, cli("sweep", "run", path, *MODES[mode])


@pytest.mark.parametrize("mode", sorted(MODES))
@PROPERTY
@given(bad=bad_sweeps())
def test_bad_sweep_file_is_one_line_exit_2_naming_file_and_path(tmp_path, isolated_store, mode,
                                                                 bad):
    path, result = feed(tmp_path, bad, mode)
    assert_rejected(result, isolated_store, str(path), *bad.names)


@pytest.mark.parametrize("mode", sorted(MODES))
@PROPERTY
@given(bad=bad_samples())
def test_bad_sample_section_is_one_line_exit_2_naming_its_yaml_path(tmp_path, isolated_store,
                                                                    mode, bad):
    path, result = feed(tmp_path, bad, mode)
    assert_rejected(result, isolated_store, str(path), *bad.names)


def test_a_base_path_too_long_for_the_os_is_one_line(tmp_path, isolated_store):
    # Was: `internal error: OSError: [Errno 36] File name too long`, exit 1.
    data = {**good_sweep(), "base": "b" * 300 + ".yaml"}
    path, result = feed(tmp_path, Bad(dump(data)), "dry-run")
    assert_rejected(result, isolated_store, str(path), "base: not a usable path")


def test_an_infinite_cpu_resource_is_refused_before_anything_runs(tmp_path, isolated_store):
    # Was: accepted; the sweep started, wrote to the store, and then Ray's task options failed
    # with `internal error: OverflowError: cannot convert float infinity to integer`, exit 1.
    data = {**good_sweep(), "resources": {"submit_training": {"num_cpus": float("inf")}}}
    path, result = feed(tmp_path, Bad(dump(data)), "run")
    assert_rejected(result, isolated_store, str(path),
                    "resources.submit_training.num_cpus: must be a finite number")


def test_an_unknown_workflow_names_the_file_and_key(tmp_path, isolated_store):
    data = {**good_sweep(), "workflow": "nosuch"}
    path, result = feed(tmp_path, Bad(dump(data)), "run")
    assert_rejected(result, isolated_store, f"{path}: workflow: unknown workflow 'nosuch'")


def test_resources_of_an_unknown_step_name_the_file(tmp_path, isolated_store):
    data = {**good_sweep(), "resources": {"trian": {"num_cpus": 1}}}
    path, result = feed(tmp_path, Bad(dump(data)), "dry-run")
    assert_rejected(result, isolated_store, f"{path}: resources: no step(s) ['trian']")
