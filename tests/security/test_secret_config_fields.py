"""Config fields that look like credentials (`api_key`, `hf_token`, `*_secret`, `password`, ...).

Config *files* refuse them: a YAML config or sweep file is shared and recorded with its results,
so a credential typed into one is one line, exit 2, naming the key and never echoing its value;
the environment is the place for keys. Configs built in Python may carry one to a step function
that needs it, and then it is redacted: it reaches no cache key, step record, run record, results
table, Ledger row or CLI output.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from secret_scan import secret_hits, text_hits

from motools._errors import ConfigError
from motools.atom import get_store
from motools.cli._app import main
from motools.engine import RunOptions, get_ledger
from motools.sweep import run_sweep
from motools.workflow import AtomConstructor, Step, Workflow

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "configs" / "hello_world.yaml"
SECRET = "sk-live-4f1c2b9e8d7a6c5b"
SECRET_NAMES = ["api_key", "openai_api_key", "hf_token", "client_secret", "password",
                "aws_secret_access_key"]


def cli(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def assert_refused(code: int, out: str, err: str, store: Path, where: str) -> None:
    assert code == 2, err
    [line] = err.splitlines()
    assert where in line and "credential" in line and "environment" in line, line
    assert SECRET not in out + err
    assert not store.exists()


# ---- config files refuse them ----------------------------------------------------------------


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_workflow_config_file_with_a_secret_field_is_refused(tmp_path, isolated_store, name):
    data = yaml.safe_load(BASE.read_text())
    data["evaluate_model"]["eval_kwargs"] = {name: SECRET}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    result = cli("workflow", "run", "train_and_evaluate", "--config", path, "--user", "alice")
    assert_refused(*result, isolated_store, f"{path}: evaluate_model.eval_kwargs.{name}")


@pytest.mark.parametrize("where", ["config", "grid", "points"])
def test_a_sweep_file_with_a_secret_anywhere_is_refused(tmp_path, isolated_store, where):
    path = "evaluate_model.eval_kwargs.hf_token"
    sweep = {"workflow": "train_and_evaluate", "base": str(BASE)}
    if where == "config":
        sweep["config"] = {"evaluate_model": {"eval_kwargs": {"hf_token": SECRET}}}
    elif where == "grid":
        sweep["grid"] = {path: [SECRET]}
    else:
        sweep["points"] = [{path: SECRET}]
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(sweep))
    assert_refused(*cli("sweep", "run", file, "--dry-run"), isolated_store, "hf_token")


def test_a_base_config_with_a_secret_is_refused_when_the_sweep_reads_it(tmp_path,
                                                                        isolated_store):
    data = yaml.safe_load(BASE.read_text())
    data["prepare_dataset"]["loader_kwargs"]["api_key"] = SECRET
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(data))
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump({"workflow": "train_and_evaluate", "base": "base.yaml"}))
    assert_refused(*cli("sweep", "run", file), isolated_store,
                   "prepare_dataset.loader_kwargs.api_key")


def test_sweeping_over_a_secret_from_python_is_refused(isolated_store):
    # A swept value is a column of the results table and part of every point's label.
    with pytest.raises(ConfigError, match=r"grid\.fetch\.api_key: looks like a credential"):
        run_sweep(FETCH, FetchFlow(FetchConfig(url="u")), grid={"fetch.api_key": [SECRET]},
                  options=RunOptions(executor="inline"))
    assert not isolated_store.exists()


# ---- configs built in Python: redacted wherever they are recorded ----------------------------


@dataclass
class FetchConfig:
    url: str
    api_key: str | None = None  # what a step calling a paid API might need


@dataclass
class FetchFlow:
    fetch: FetchConfig


def fetch(config: FetchConfig, input_atoms, temp_workspace: Path) -> list[AtomConstructor]:
    # The step gets the full config; it records only that it had a key, as a careful step does.
    path = temp_workspace / "fetched.json"
    path.write_text(json.dumps({"url": config.url, "had_key": config.api_key == SECRET}))
    return [AtomConstructor(name="fetched", path=path, type="fetched")]


FETCH = Workflow(
    name="fetch", input_atom_types={}, config_class=FetchFlow,
    steps=[Step(name="fetch", function=fetch, input_atom_types={}, config_class=FetchConfig,
                output_atom_types={"fetched": "fetched"})],
)


@pytest.fixture
def python_sweep(isolated_store):
    result = run_sweep(FETCH, FetchFlow(FetchConfig(url="https://a", api_key=SECRET)),
                       grid={"fetch.url": ["https://a", "https://b"]},
                       options=RunOptions(user="alice", executor="inline", store=isolated_store))
    assert not result.failures, result.failures
    return result


def test_a_step_still_receives_the_secret_of_a_python_config(python_sweep):
    for point in python_sweep.point_results:
        atom = point.get_atom("fetched")
        assert json.loads(atom.read_bytes("fetched.json"))["had_key"] is True


def test_the_secret_is_in_no_file_of_the_store_nor_the_ledger(python_sweep, isolated_store):
    assert (isolated_store / "ledger.sqlite").exists()
    assert secret_hits([isolated_store], [SECRET]) == []


def test_recorded_step_configs_leave_the_secret_field_out(python_sweep, isolated_store):
    runs = get_ledger(get_store(isolated_store)).step_runs_of(python_sweep.run_id)
    assert [sorted(r.config) for r in runs] == [["url"], ["url"]]


def test_cli_views_of_the_run_never_show_the_secret(python_sweep, isolated_store):
    fetched = python_sweep.point_results[0].output_atoms["fetched"]
    for args in (("runs", "show", python_sweep.run_id), ("sweep", "results", python_sweep.run_id),
                 ("atom", "show", fetched), ("atom", "lineage", fetched),
                 ("cache", "explain", fetched)):
        code, out, err = cli(*args)
        assert code == 0, (args, err)
        assert text_hits(out + err, [SECRET]) == [], args
