"""The `motools` command line, run as users run it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from motools.cli._app import main

REPO = Path(__file__).resolve().parents[2]
SEED_YAML = REPO / "configs" / "hello_world.yaml"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hello_world.yaml"
    shutil.copy(SEED_YAML, path)
    return path


def test_run_prints_steps_and_metrics_and_exits_zero(capsys, config):
    code, out, _ = run_cli(
        capsys, "workflow", "run", "train_and_evaluate", "--config", str(config), "--user", "alice"
    )
    assert code == 0
    for step in ("prepare_dataset", "submit_training", "wait_for_training", "evaluate_model"):
        assert re.search(rf"{step}\s.*succeeded", out)
    assert re.search(r"hello_world\s.*accuracy", out)


def test_second_run_reports_every_step_cached(capsys, config):
    args = ("workflow", "run", "train_and_evaluate", "--config", str(config), "--user", "alice")
    assert run_cli(capsys, *args)[0] == 0
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    assert len(re.findall(r"│ cached\s+│", out)) == 4
    assert "succeeded" not in out


def test_force_rerun_executes_again(capsys, config):
    args = ("workflow", "run", "train_and_evaluate", "--config", str(config), "--user", "alice")
    run_cli(capsys, *args)
    code, out, _ = run_cli(capsys, *args, "--force-rerun")
    assert code == 0
    assert len(re.findall(r"│ succeeded\s+│", out)) == 4


def test_stages_range_runs_only_selected_steps(capsys, config):
    args = ("workflow", "run", "train_and_evaluate", "--config", str(config), "--user", "a")
    run_cli(capsys, *args)
    code, out, _ = run_cli(capsys, *args, "--stages", "wait_for_training:evaluate_model",
                           "--force-rerun")
    assert code == 0
    assert len(re.findall(r"│ succeeded\s+│", out)) == 2
    assert len(re.findall(r"│ cached\s+│", out)) == 2


def test_console_script_runs_the_seed_config(tmp_path, config):
    exe = shutil.which("motools") or pytest.fail("console script 'motools' not installed")
    proc = subprocess.run(
        [exe, "workflow", "run", "train_and_evaluate", "--config", str(config), "--user", "alice"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "accuracy" in proc.stdout


def test_help_imports_no_heavy_dependency():
    code = (
        "import sys\n"
        "from motools.cli._app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('ray', 'inspect_ai', 'torch', 'tinker', 'openai', 'pandas')\n"
        "         if m in sys.modules]\n"
        "print(heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_workflow_list_names_train_and_evaluate(capsys):
    code, out, _ = run_cli(capsys, "workflow", "list")
    assert code == 0
    assert "train_and_evaluate" in out


def test_validate_accepts_the_seed_config(capsys, config):
    code, out, _ = run_cli(capsys, "workflow", "validate", "train_and_evaluate", "--config", str(config))
    assert code == 0
    assert "valid" in out


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_schema_lists_every_section(capsys, fmt):
    code, out, _ = run_cli(capsys, "workflow", "schema", "train_and_evaluate", "--format", fmt)
    assert code == 0
    for section in ("prepare_dataset", "submit_training", "wait_for_training", "evaluate_model"):
        assert section in out
    if fmt == "json":
        assert json.loads(out)["additionalProperties"] is False


def test_atom_show_and_lineage_walk_back_to_the_dataset(capsys, config):
    run_cli(capsys, "workflow", "run", "train_and_evaluate", "--config", str(config), "--user", "bob")
    _, out, _ = run_cli(capsys, "workflow", "run", "train_and_evaluate", "--config", str(config))
    eval_prefix = re.search(r"eval_results=(eval-[0-9a-f]+)", out).group(1).rstrip("…")
    store = Path(__import__("os").environ["MOTOOLS_STORE"])
    eval_id = next(p.stem for p in (store / "atoms").glob(f"{eval_prefix}*.json"))

    code, out, _ = run_cli(capsys, "atom", "show", eval_id)
    assert code == 0
    record = json.loads(out)
    assert record["id"] == eval_id and record["provenance"]["user"] == "bob"

    code, out, _ = run_cli(capsys, "atom", "lineage", eval_id)
    assert code == 0
    for step in ("evaluate_model", "wait_for_training", "submit_training", "prepare_dataset"):
        assert step in out
    assert "user=bob" in out
    assert "generate_hello_world_dataset" in out


BAD_INPUTS = {
    "malformed yaml": ("prepare_dataset:\n  dataset_loader: [1,\n", "invalid YAML"),
    "unknown section": (("wait_for_training: {}", "wait_for_trainin: {}"), "wait_for_trainin: unknown key"),
    "unknown key": (("suffix: hello-world", "sufix: x"), "submit_training.sufix: unknown key"),
    "wrong type": (("n_epochs: 2", "n_epochs: two"), "submit_training.hyperparameters.n_epochs"),
    "missing loader module": (("mozoo.datasets.hello_world:", "nosuch.module:"), "cannot import module 'nosuch.module'"),
    "non-callable loader": (("generate_hello_world_dataset", "RESPONSE"), "is not callable"),
    "unknown backend": (("backend_name: dummy\n\nwait", "backend_name: nosuch\n\nwait"), "unknown training backend 'nosuch'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_config_is_one_line_exit_2(capsys, tmp_path, case):
    change, expected = BAD_INPUTS[case]
    text = SEED_YAML.read_text()
    text = change if isinstance(change, str) else text.replace(*change)
    assert text != SEED_YAML.read_text()
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = run_cli(capsys, "workflow", "run", "train_and_evaluate", "--config", str(path))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert "Traceback" not in err
    store = Path(__import__("os").environ["MOTOOLS_STORE"])
    assert not (store / "atoms").exists()


def test_unknown_workflow_is_one_line_exit_2(capsys, config):
    code, _, err = run_cli(capsys, "workflow", "run", "nosuch", "--config", str(config))
    assert code == 2
    assert err.strip() == "error: unknown workflow 'nosuch'; available: train_and_evaluate"


def test_missing_config_file_is_one_line_exit_2(capsys, tmp_path):
    code, _, err = run_cli(
        capsys, "workflow", "run", "train_and_evaluate", "--config", str(tmp_path / "nope.yaml")
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "nope.yaml" in err


def test_path_like_atom_id_is_rejected(capsys):
    code, _, err = run_cli(capsys, "atom", "show", "../../etc/passwd")
    assert code == 2
    assert "invalid atom id" in err


def test_debug_flag_shows_the_traceback(capsys, config):
    code, _, err = run_cli(capsys, "--debug", "workflow", "run", "nosuch", "--config", str(config))
    assert code == 2
    assert "Traceback" in err


def test_missing_argument_is_a_usage_error_exit_2(capsys):
    code, _, err = run_cli(capsys, "workflow", "run")
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_a_failing_step_prints_a_failures_table_and_exits_1(capsys, tmp_path, config):
    (tmp_path / "broken_loader.py").write_text(
        "def load(num_samples=1):\n    raise ValueError('the loader broke')\n"
    )
    text = config.read_text().replace(
        "mozoo.datasets.hello_world:generate_hello_world_dataset", "broken_loader:load"
    )
    config.write_text(text)
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        code, out, _ = run_cli(capsys, "workflow", "run", "train_and_evaluate", "--config",
                               str(config), "--executor", "inline")
    finally:
        sys.path.remove(str(tmp_path))
    assert code == 1
    assert "failures" in out and "ValueError: the loader broke" in out
    assert re.search(r"motools runs show run-\S+", out)
    run_id = re.search(r"motools runs show (run-\S+)", out).group(1)
    code, out, _ = run_cli(capsys, "runs", "show", run_id)
    assert code == 0 and "Traceback" in out and "the loader broke" in out
