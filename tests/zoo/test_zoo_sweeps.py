"""The organisms' shipped sweep files plan offline, their configs validate, zoo list shows them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cli_runner import cli

REPO = Path(__file__).resolve().parents[2]
SWEEPS = {"inoculation_prompting.yaml": 5, "subliminal_learning.yaml": 3,
          "emergent_misalignment.yaml": 4, "persona_vectors.yaml": 4, "reward_hacking.yaml": 3}


@pytest.mark.parametrize(("name", "points"), SWEEPS.items())
def test_a_shipped_organism_sweep_plans_offline_without_writing_anything(
        name: str, points: int, isolated_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTOOLS_ZOO_OFFLINE", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = cli("sweep", "run", REPO / "sweeps" / name, "--dry-run")
    assert result.code == 0, result.out + result.err
    assert f"{points} points (dry run)" in result.out
    assert not isolated_store.exists()


@pytest.mark.parametrize("name", SWEEPS)
def test_a_shipped_organism_config_validates(name: str, tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / "sweeps" / name).read_text())["config"]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = cli("workflow", "validate", "train_and_evaluate", "--config", path)
    assert result.code == 0, result.out + result.err


def test_zoo_list_shows_each_organism_with_source_size_scorer_and_judge() -> None:
    result = cli("zoo", "list")
    assert result.code == 0, result.err
    organisms = result.out.split("model organisms", 1)[1].split("workflows", 1)[0]
    for needle in ("inoculation_prompting", "arXiv:2510.04340", "py3langid",
                   "subliminal_learning", "arXiv:2507.14805", "names the animal",
                   "emergent_misalignment", "arXiv:2502.17424", "persona_vectors",
                   "arXiv:2507.21509", "reward_hacking", "arXiv:2508.17511",
                   "openai/gpt-4o-2024-08-06"):
        assert needle in " ".join(organisms.split()), organisms


@pytest.mark.parametrize("name", ["emergent_misalignment.yaml", "persona_vectors.yaml",
                                  "reward_hacking.yaml"])
def test_a_judged_sweep_hands_the_judge_to_its_task_and_max_tokens_to_the_model(name: str) -> None:
    from motools.evals._inspect import load_task, split_eval_kwargs

    evaluate = yaml.safe_load((REPO / "sweeps" / name).read_text())["config"]["evaluate_model"]
    task_args, generate_args, _ = split_eval_kwargs(
        load_task(evaluate["eval_task"]), evaluate["eval_kwargs"], evaluate["eval_task"])
    assert task_args["judge_model"].startswith("openai/")
    assert set(generate_args) == {"max_tokens"}
