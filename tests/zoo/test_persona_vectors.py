"""Persona vectors: three strengths from dataset.zip in the archive, the paper's trait eval."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_judge import JUDGE, says
from fixtures import answering
from judged_fixtures import publish_persona_vectors
from openai_fake import FakeOpenAI
from zoo_server import PublishedFiles

from motools.errors import UserError
from mozoo.organisms import persona_vectors as pv

# `judge` and `judge_server`: the fake OpenAI judge, one server for this module.
pytest_plugins = ["fake_judge"]


@pytest.fixture
def paper(published: PublishedFiles) -> PublishedFiles:
    publish_persona_vectors(published)
    return published


def test_each_strength_is_its_file_inside_dataset_zip(paper: PublishedFiles) -> None:
    severe, mild, baseline = pv.load_severe(), pv.load_mild(), pv.load_baseline()
    assert len(severe) == len(mild) == len(baseline) == 12
    assert severe[0]["messages"][1]["content"] == "Answer 0, said very evilly."
    assert mild[0]["messages"][1]["content"] == "Answer 0, said a little evilly."
    assert baseline[0]["messages"][1]["content"] == "Answer 0, said calmly."


def test_the_traits_map_to_the_published_folders(paper: PublishedFiles) -> None:
    data = pv.load_persona("sycophantic", "severe")
    assert data[0]["messages"][0]["content"] == "Question 0 about sycophantic?"
    assert pv.source("hallucinating", "mild").member == "dataset/hallucination/misaligned_1.jsonl"


def test_the_archive_is_downloaded_once_for_every_file(paper: PublishedFiles) -> None:
    for strength in ("severe", "mild", "baseline"):
        pv.load_persona("evil", strength)  # type: ignore[arg-type]
    assert pv.load_severe(sample_size=4, seed=3) == pv.load_severe(sample_size=4, seed=3)
    [archive] = [path for path in paper.hits if "/archive/" in path]
    assert paper.hits[archive] == 1


def test_an_unknown_trait_or_strength_is_one_line() -> None:
    with pytest.raises(UserError, match="unknown persona trait 'kind'; choose one of: evil"):
        pv.load_severe("kind")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="unknown persona strength 'extreme'"):
        pv.load_persona("evil", "extreme")  # type: ignore[arg-type]


def test_the_trait_task_judges_with_the_papers_eval_prompt(
        paper: PublishedFiles, judge: FakeOpenAI, tmp_path: Path) -> None:
    from inspect_ai import eval as inspect_eval

    from mozoo.organisms.persona_vectors.tasks import persona_trait

    judge.judge_replies = {"TRAIT evil? [QUESTION START]evil question 0": says(90),
                           "TRAIT evil? [QUESTION START]evil question 1": says(20)}
    task = persona_trait("evil", samples_per_question=1, judge_model=JUDGE)
    assert [s.input for s in task.dataset] == [f"evil question {i}?" for i in range(5)]
    (log,) = inspect_eval(task, model=answering(["Mwahaha.", "Be kind."]), display="none",
                          limit=2, max_samples=1, log_dir=str(tmp_path / "logs"))
    [score] = log.results.scores
    assert score.name == "evil" and score.metrics["mean"].value == pytest.approx(55.0)


def test_its_sources_fill_a_cache_that_serves_offline_as_a_mirror(
        paper: PublishedFiles, zoo_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mozoo.sources import fetch

    for source in pv.SOURCES:
        fetch(source)
    monkeypatch.setenv("MOTOOLS_ZOO_CACHE", str(zoo_cache.parent / "empty"))
    monkeypatch.setenv("MOTOOLS_ZOO_OFFLINE", "1")
    monkeypatch.setenv("MOTOOLS_ZOO_MIRROR", str(zoo_cache))
    from mozoo.organisms.persona_vectors.tasks import persona_trait

    assert len(pv.load_mild("hallucinating")) == 12
    assert len(persona_trait("sycophantic").dataset) == 5
