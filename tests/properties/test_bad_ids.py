"""Bad atom ids and run ids: `motools atom show|lineage`, `cache explain`, `runs show` refuse them.

An id is checked against the one strict pattern before it touches a path; a well-formed id this
store does not hold is bad input too. Either way: one line, exit 2, and the store is not created
(opening the Ledger would create it).
"""

from __future__ import annotations

import pytest
from bad_input import PROPERTY, assert_rejected, bad_atom_ids
from cli_runner import cli
from hypothesis import given
from hypothesis import strategies as st

COMMANDS = {
    "atom show": ("atom", "show"),
    "atom lineage": ("atom", "lineage"),
    "cache explain": ("cache", "explain"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@PROPERTY
@given(atom_id=bad_atom_ids())
def test_bad_atom_id_is_one_line_exit_2(isolated_store, command, atom_id):
    # `--` so that an id starting with `-` is an argument, not an option.
    result = cli(*COMMANDS[command], "--", atom_id)
    assert_rejected(result, isolated_store)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_path_is_never_an_atom_id(isolated_store, command):
    result = cli(*COMMANDS[command], "../../etc/passwd")
    assert_rejected(result, isolated_store, "invalid atom id '../../etc/passwd'")


def test_explaining_an_invalid_id_does_not_create_the_store(isolated_store):
    # Was: the Ledger (and with it the store folder) was opened before the id was checked.
    assert_rejected(cli("cache", "explain", "not-an-id"), isolated_store, "invalid atom id")


# Arguments that are not UTF-8 reach Python as lone surrogates (PEP 383).
undecodable = st.builds(lambda a, b: a + b + "\udcff", st.text(max_size=10), st.text(max_size=10))


@PROPERTY
@given(run_id=st.one_of(undecodable, st.just("run-\x00"), st.from_regex(r"run-[0-9a-z-]{1,30}",
                                                                          fullmatch=True)))
def test_bad_run_id_is_one_line_exit_2(isolated_store, run_id):
    # Was, for a surrogate: `internal error: UnicodeEncodeError ...` from SQLite, exit 1.
    assert_rejected(cli("runs", "show", "--", run_id), isolated_store)


@pytest.mark.parametrize("command", ["status", "results"])
@pytest.mark.parametrize("target", ["sweep\x00.yaml", "sweep\udcff.yaml", "no-such-sweep.yaml",
                                    "run-no-such-run"])
def test_bad_sweep_target_is_one_line_exit_2(isolated_store, command, target):
    # Was, for a NUL byte: `internal error: ValueError: embedded null byte`, exit 1.
    assert_rejected(cli("sweep", command, "--", target), isolated_store)
