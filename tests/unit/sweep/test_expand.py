"""Expanding a sweep spec into validated points of the real train_and_evaluate workflow."""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import pytest

from motools._errors import ConfigError
from motools.sweep._expand import SweepPoint, base_config, expand
from motools.sweep._spec import SweepSpec, load_sweep
from motools.workflow import config_paths
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig, train_and_evaluate_workflow

WORKFLOW = train_and_evaluate_workflow
LR = "submit_training.hyperparameters.learning_rate"
SEED = "submit_training.hyperparameters.seed"
EPOCHS = "submit_training.hyperparameters.n_epochs"
SUFFIX = "submit_training.suffix"

BASE_YAML = """\
prepare_dataset:
  dataset_loader: mozoo.datasets.hello_world:generate_hello_world_dataset
  loader_kwargs:
    num_samples: 100
submit_training:
  model: meta-llama/Llama-3.2-1B
  hyperparameters:
    n_epochs: 2
    learning_rate: 1e-4
  suffix: hello-world
  backend_name: dummy
wait_for_training: {}
evaluate_model:
  eval_task: mozoo.tasks.hello_world:hello_world
  backend_name: dummy
"""


def sweep_file(folder: Path, body: str, *, name: str = "sweep.yaml") -> Path:
    """A sweep file in `folder` whose base is `hello_world.yaml` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hello_world.yaml").write_text(BASE_YAML, encoding="utf-8")
    path = folder / name
    path.write_text(f"workflow: train_and_evaluate\nbase: hello_world.yaml\n{body}", "utf-8")
    return path


def points_of(folder: Path, body: str) -> list[SweepPoint]:
    path = sweep_file(folder, body)
    spec = load_sweep(path)
    base = base_config(spec, WORKFLOW, source_dir=path.parent)
    return expand(spec, WORKFLOW, base=base, source=str(path))


def expand_error(folder: Path, body: str) -> str:
    with pytest.raises(ConfigError) as info:
        points_of(folder, body)
    message = str(info.value)
    assert "\n" not in message
    return message


def lr(point: SweepPoint) -> float:
    return point.config.submit_training.hyperparameters.learning_rate


def test_grid_of_three_by_three_gives_nine_points(tmp_path: Path) -> None:
    points = points_of(tmp_path, f"grid:\n  {LR}: [1.0e-5, 1.0e-4, 1.0e-3]\n  {SEED}: [0, 1, 2]\n")

    assert len(points) == 9
    assert [p.index for p in points] == list(range(9))


def test_grid_follows_product_order(tmp_path: Path) -> None:
    points = points_of(tmp_path, f"grid:\n  {LR}: [1.0e-5, 1.0e-3]\n  {SEED}: [0, 1]\n")

    assert [p.overrides for p in points] == [
        {LR: 1e-5, SEED: 0}, {LR: 1e-5, SEED: 1}, {LR: 1e-3, SEED: 0}, {LR: 1e-3, SEED: 1},
    ]


def test_grid_of_three_by_zip_of_two_gives_six_points(tmp_path: Path) -> None:
    body = (f"grid:\n  {LR}: [1.0e-5, 1.0e-4, 1.0e-3]\n"
            f"zip:\n  {EPOCHS}: [1, 2]\n  {SUFFIX}: [a, b]\n")

    points = points_of(tmp_path, body)

    assert len(points) == 6
    assert [(p.config.submit_training.hyperparameters.n_epochs, p.config.submit_training.suffix)
            for p in points[:2]] == [(1, "a"), (2, "b")]


def test_explicit_point_is_crossed_with_zip(tmp_path: Path) -> None:
    body = (f"grid:\n  {LR}: [1.0e-5, 1.0e-3]\nzip:\n  {SEED}: [0, 1]\n"
            f"points:\n  - {{{LR}: 3.0e-4}}\n")

    points = points_of(tmp_path, body)

    assert len(points) == (2 + 1) * 2
    assert [lr(p) for p in points] == [1e-5, 1e-5, 1e-3, 1e-3, 3e-4, 3e-4]
    assert points[4].config.submit_training.hyperparameters.learning_rate == 3e-4


def test_overrides_list_grid_then_zip_then_point_keys(tmp_path: Path) -> None:
    body = (f"grid:\n  {LR}: [1.0e-5]\nzip:\n  {SEED}: [7]\n"
            f"points:\n  - {{{EPOCHS}: 3}}\n")

    grid_point, explicit = points_of(tmp_path, body)

    assert list(grid_point.overrides) == [LR, SEED]
    assert list(explicit.overrides) == [SEED, EPOCHS]


def test_no_axes_give_one_point_with_the_base_config(tmp_path: Path) -> None:
    (point,) = points_of(tmp_path, "")

    assert point.index == 0
    assert point.overrides == {}
    assert point.config == TrainAndEvaluateConfig.model_validate(
        base_config(load_sweep(tmp_path / "sweep.yaml"), WORKFLOW, source_dir=tmp_path))


def test_only_points_give_just_those_points(tmp_path: Path) -> None:
    points = points_of(tmp_path, f"points:\n  - {{{SEED}: 1}}\n  - {{{SEED}: 2}}\n")

    assert [p.config.submit_training.hyperparameters.seed for p in points] == [1, 2]


def test_only_zip_gives_its_rows(tmp_path: Path) -> None:
    points = points_of(tmp_path, f"zip:\n  {SEED}: [1, 2, 3]\n")

    assert [p.overrides for p in points] == [{SEED: 1}, {SEED: 2}, {SEED: 3}]


def test_grid_and_a_point_may_set_the_same_path(tmp_path: Path) -> None:
    points = points_of(tmp_path, f"grid:\n  {LR}: [1.0e-5]\npoints:\n  - {{{LR}: 3.0e-4}}\n")

    assert [lr(p) for p in points] == [1e-5, 3e-4]


def test_yaml_exponent_arrives_as_a_float(tmp_path: Path) -> None:
    (point,) = points_of(tmp_path, f"grid:\n  {LR}: [1.0e-5]\n")

    assert type(point.overrides[LR]) is float
    assert lr(point) == 1e-5


def test_other_fields_keep_their_base_values(tmp_path: Path) -> None:
    (point,) = points_of(tmp_path, f"grid:\n  {LR}: [1.0e-5]\n")

    assert point.config.submit_training.hyperparameters.n_epochs == 2
    assert point.config.submit_training.suffix == "hello-world"


def test_loader_kwargs_path_is_valid(tmp_path: Path) -> None:
    points = points_of(tmp_path, "grid:\n  prepare_dataset.loader_kwargs.num_samples: [10, 20]\n")

    assert [p.config.prepare_dataset.loader_kwargs["num_samples"] for p in points] == [10, 20]


def test_base_is_relative_to_the_sweep_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = sweep_file(tmp_path / "sweeps", "")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    base = base_config(load_sweep(path), WORKFLOW, source_dir=path.parent)

    assert base["submit_training"]["suffix"] == "hello-world"


def test_inline_config_deep_merges_over_base(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path,
        "config:\n  submit_training:\n    hyperparameters: {learning_rate: 0.01}\n    suffix: x\n",
    )

    base = base_config(load_sweep(path), WORKFLOW, source_dir=tmp_path)

    assert base["submit_training"]["hyperparameters"] == {"n_epochs": 2, "learning_rate": 0.01}
    assert base["submit_training"]["suffix"] == "x"
    assert base["submit_training"]["model"] == "meta-llama/Llama-3.2-1B"


def test_inline_config_alone_needs_no_base_file(tmp_path: Path) -> None:
    spec = SweepSpec(workflow="train_and_evaluate", config={"wait_for_training": {}})

    assert base_config(spec, WORKFLOW, source_dir=tmp_path) == {"wait_for_training": {}}


def test_missing_base_names_the_key_and_the_resolved_path(tmp_path: Path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text("workflow: train_and_evaluate\nbase: configs/absent.yaml\n", "utf-8")

    with pytest.raises(ConfigError) as info:
        base_config(load_sweep(path), WORKFLOW, source_dir=tmp_path)

    assert str(info.value) == (
        f"{path}: base: config file not found: {tmp_path / 'configs' / 'absent.yaml'}"
    )


def test_unknown_section_in_inline_config_is_named(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, "config:\n  submit_trainng: {}\n")

    with pytest.raises(ConfigError, match=r"config\.submit_trainng: unknown key; allowed: prep"):
        base_config(load_sweep(path), WORKFLOW, source_dir=tmp_path)


def test_expansion_is_deterministic(tmp_path: Path) -> None:
    body = f"grid:\n  {SEED}: [2, 0, 1]\n  {LR}: [1.0e-3, 1.0e-5]\nzip:\n  {SUFFIX}: [a, b]\n"

    first, second = points_of(tmp_path, body), points_of(tmp_path, body)

    assert [p.overrides for p in first] == [p.overrides for p in second]
    assert [p.config for p in first] == [p.config for p in second]


def test_empty_grid_axis_is_named(tmp_path: Path) -> None:
    assert expand_error(tmp_path, f"grid:\n  {LR}: []\n").endswith(f": grid.{LR}: empty list")


def test_empty_zip_axis_is_named(tmp_path: Path) -> None:
    assert expand_error(tmp_path, f"zip:\n  {SEED}: []\n").endswith(f": zip.{SEED}: empty list")


def test_unequal_zip_lengths_are_named(tmp_path: Path) -> None:
    message = expand_error(tmp_path, f"zip:\n  {SEED}: [1, 2]\n  {SUFFIX}: [a, b, c]\n")

    assert message.endswith(f"zip: lists differ in length: {SEED} has 2, {SUFFIX} has 3")


def test_unknown_grid_path_lists_the_nearest_valid_paths_first(tmp_path: Path) -> None:
    message = expand_error(tmp_path, "grid:\n  submit_training.hyperparameters.learning_rat: [1]\n")

    head = f"grid.submit_training.hyperparameters.learning_rat: unknown config path; valid: {LR}, "
    assert head in message
    assert "prepare_dataset.loader_kwargs.*" in message


def test_unknown_zip_path_is_named(tmp_path: Path) -> None:
    assert "zip.submit_training.seed: unknown config path" in expand_error(
        tmp_path, "zip:\n  submit_training.seed: [1]\n")


def test_unknown_point_path_is_named(tmp_path: Path) -> None:
    message = expand_error(tmp_path, f"points:\n  - {{{LR}: 1.0e-3}}\n  - {{submit.lr: 1}}\n")

    assert "points[1].submit.lr: unknown config path" in message


def test_path_in_grid_and_zip_is_set_twice(tmp_path: Path) -> None:
    message = expand_error(tmp_path, f"grid:\n  {SEED}: [1]\nzip:\n  {SEED}: [2]\n")

    assert f"zip.{SEED}: set twice" in message


def test_path_in_zip_and_a_point_is_set_twice(tmp_path: Path) -> None:
    message = expand_error(tmp_path, f"zip:\n  {SEED}: [1]\npoints:\n  - {{{SEED}: 2}}\n")

    assert f"points[0].{SEED}: set twice" in message


def test_path_inside_another_set_path_is_set_twice(tmp_path: Path) -> None:
    body = (f"grid:\n  submit_training.hyperparameters: [{{seed: 1}}]\n"
            f"zip:\n  {SEED}: [2]\n")

    assert f"zip.{SEED}: set twice" in expand_error(tmp_path, body)


def test_point_that_is_not_a_mapping_is_named(tmp_path: Path) -> None:
    spec = SweepSpec.model_construct(workflow="train_and_evaluate", config={}, grid={}, zip={},
                                     points=[{SEED: 1}, 5])

    with pytest.raises(ConfigError, match=r"^s\.yaml: points\[1\]: expected a mapping"):
        expand(spec, WORKFLOW, base={}, source="s.yaml")


def test_wrong_value_type_names_the_point_and_the_field(tmp_path: Path) -> None:
    message = expand_error(tmp_path, f"grid:\n  {SEED}: [0]\n  {LR}: [1.0e-3, abc]\n")

    assert message.startswith(f"{tmp_path / 'sweep.yaml'} point 1 (seed=0, learning_rate=abc): ")
    assert f"{LR}: Input should be a valid number" in message


def test_config_paths_list_leaves_and_free_dicts() -> None:
    paths = config_paths(TrainAndEvaluateConfig)

    assert LR in paths
    assert "prepare_dataset.loader_kwargs.*" in paths
    assert "evaluate_model.eval_kwargs.*" in paths
    assert "submit_training.hyperparameters" not in paths


@dataclasses.dataclass
class _Inner:
    depth: int = 0


@dataclasses.dataclass
class _Outer:
    inner: _Inner | None = None
    wide: list[int] = dataclasses.field(default_factory=list)


def test_config_paths_walk_optional_dataclasses() -> None:
    assert config_paths(_Outer) == ["inner.depth", "wide"]


def test_long_listing_of_valid_paths_is_cut_short() -> None:
    wide = dataclasses.make_dataclass("Wide", [(f"field_{i:02}", int, 0) for i in range(30)])
    workflow = types.SimpleNamespace(config_class=wide)  # expand reads only the config class
    spec = SweepSpec(workflow="w", grid={"field_x": [1]})

    with pytest.raises(ConfigError) as info:
        expand(spec, workflow, base={})

    listed = str(info.value).split("valid: ")[1].split(", ")
    assert len(listed) == 21
    assert listed[-1] == "..."
