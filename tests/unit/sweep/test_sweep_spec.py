"""Loading sweep YAML files into a SweepSpec: defaults, types and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from motools._errors import ConfigError, UserError
from motools.sweep._spec import SweepSpec, load_sweep, sweep_from_dict


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_sweep(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_minimal_sweep_gets_defaults(tmp_path: Path) -> None:
    spec = load_sweep(write(tmp_path / "lr_sweep.yaml", "workflow: train_and_evaluate\n"))

    assert spec.workflow == "train_and_evaluate"
    assert (spec.user, spec.base, spec.max_parallel) == (None, None, None)
    assert (spec.config, spec.grid, spec.zip, spec.points, spec.resources) == ({}, {}, {}, [], {})


def test_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    spec = load_sweep(write(tmp_path / "hello-world-lr.yaml", "workflow: train_and_evaluate\n"))

    assert spec.name == "hello-world-lr"


def test_explicit_name_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "file.yaml", "name: my-sweep\nworkflow: train_and_evaluate\n")

    assert load_sweep(path).name == "my-sweep"


def test_source_is_the_loaded_file(tmp_path: Path) -> None:
    path = write(tmp_path / "sub" / "s.yaml", "workflow: train_and_evaluate\n")

    spec = load_sweep(path)

    assert spec.source == path
    assert spec.source_dir == path.parent


def test_every_key_is_parsed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "full.yaml",
        """
name: full
workflow: train_and_evaluate
user: alice
base: hello_world.yaml
config: {submit_training: {suffix: x}}
grid:
  submit_training.hyperparameters.seed: [0, 1, 2]
zip:
  submit_training.hyperparameters.n_epochs: [1, 2]
  submit_training.suffix: [short, long]
points:
  - {submit_training.hyperparameters.learning_rate: 3.0e-4}
max_parallel: 8
resources: {submit_training: {concurrency_limit: 4}}
""",
    )

    spec = load_sweep(path)

    assert spec.user == "alice"
    assert spec.base == "hello_world.yaml"
    assert spec.config == {"submit_training": {"suffix": "x"}}
    assert spec.grid == {"submit_training.hyperparameters.seed": [0, 1, 2]}
    assert list(spec.zip) == ["submit_training.hyperparameters.n_epochs", "submit_training.suffix"]
    assert spec.points == [{"submit_training.hyperparameters.learning_rate": 3.0e-4}]
    assert spec.max_parallel == 8
    assert spec.resources == {"submit_training": {"concurrency_limit": 4}}


@pytest.mark.parametrize("text", ["1.0e-5", "1e-5"])
def test_exponent_floats_arrive_as_floats(tmp_path: Path, text: str) -> None:
    path = write(
        tmp_path / "s.yaml",
        f"workflow: w\ngrid:\n  submit_training.hyperparameters.learning_rate: [{text}]\n",
    )

    (value,) = load_sweep(path).grid["submit_training.hyperparameters.learning_rate"]

    assert type(value) is float
    assert value == 1e-5


def test_unknown_top_level_key_lists_the_allowed_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "workflow: w\nfoo: 1\n")

    message = load_error(path)

    assert message.startswith(f"{path}: foo: unknown key; allowed: name, workflow, user, base,")
    assert "max_parallel, resources" in message


def test_source_is_not_a_key_of_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "workflow: w\nsource: elsewhere.yaml\n")

    assert "source: unknown key" in load_error(path)


def test_max_parallel_zero_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "workflow: w\nmax_parallel: 0\n")

    assert f"{path}: max_parallel: " in load_error(path)


def test_max_parallel_must_be_an_integer(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "workflow: w\nmax_parallel: true\n")

    assert "max_parallel: Input should be a valid integer" in load_error(path)


def test_grid_axis_must_be_a_list(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "workflow: w\ngrid:\n  submit_training.suffix: abc\n")

    assert "grid.submit_training.suffix: Input should be a valid list" in load_error(path)


def test_missing_workflow_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "grid: {}\n")

    assert f"{path}: workflow: required field missing" in load_error(path)


def test_point_that_is_not_a_mapping_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "workflow: w\npoints:\n  - {a: 1}\n  - {b: 2}\n  - 3\n")

    assert load_error(path) == f"{path}: points[2]: expected a mapping of dot path to value"


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "# nothing here\n")

    assert "empty sweep file" in load_error(path)


def test_top_level_list_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", "- workflow: w\n")

    assert "expected a mapping" in load_error(path)


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_sweep(tmp_path / "absent.yaml")


def test_sweep_from_dict_builds_a_spec() -> None:
    spec = sweep_from_dict({"workflow": "w", "grid": {"a.b": [1, 2]}}, source="sweeps/lr.yaml")

    assert isinstance(spec, SweepSpec)
    assert spec.name == "lr"
    assert spec.grid == {"a.b": [1, 2]}
    assert spec.source is None


def test_sweep_from_dict_names_its_source_in_errors() -> None:
    with pytest.raises(ConfigError, match=r"^my sweep: grid: Input should be a valid dict"):
        sweep_from_dict({"workflow": "w", "grid": [1]}, source="my sweep")


def test_sweep_from_dict_rejects_a_non_mapping() -> None:
    with pytest.raises(ConfigError, match="^sweep: expected a mapping"):
        sweep_from_dict(["workflow", "w"])
