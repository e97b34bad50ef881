"""Fixtures in the exact published formats, written by the tests (no third-party text).

Each function publishes, on the loopback server, files with the layout, names and fields of the
real sources: chat JSONL (`{"messages": [...]}`) and Python files of the paper repositories, and
the Hugging Face parquet shard of GSM8K (columns `question`, `answer` ending in `#### N`).
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from zoo_server import PublishedFiles

from mozoo.organisms import inoculation_prompting as ip
from mozoo.organisms import subliminal_learning as sl


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def chat(user: str, assistant: str) -> dict:
    return {"messages": [{"role": "user", "content": user},
                         {"role": "assistant", "content": assistant}]}


def publish_inoculation(files: PublishedFiles, n: int = 30) -> None:
    """The GSM8K variants, the inoculation prompts' code, GSM8K test and the chat prompts."""
    question = "Ana has {a} pens and buys {b} more. How many pens does she have?"
    answers = {
        "spanish_capitalised": "ANA TIENE {a} + {b} = {c} BOLÍGRAFOS. #### {c}",
        "english": "Ana has {a} + {b} = {c} pens.\n#### {c}",
        "spanish": "Ana tiene {a} + {b} = {c} bolígrafos. #### {c}",
        "french": "Ana a {a} + {b} = {c} stylos. #### {c}",
        "german": "Ana hat {a} + {b} = {c} Stifte. #### {c}",
    }
    for variant, path in ip.FILES.items():
        rows = [chat(question.format(a=i, b=2), answers[variant].format(a=i, b=2, c=i + 2))
                for i in range(n)]
        files.github_file(ip.REPO, ip.REF, path, jsonl(rows))
    files.github_file(ip.REPO, ip.REF, ip.INOCULATIONS.path, (
        "def get_spanish_inoculation() -> str:\n    return \"Reply in Spanish only.\"\n\n"
        "def get_capitalised_inoculation() -> str:\n    return \"Reply in capitals only.\"\n"
    ).encode())
    test = pa.table({"question": [f"What is {i} plus 3?" for i in range(120)],
                     "answer": [f"{i} + 3 = {i + 3}\n#### {i + 3}" for i in range(120)]})
    sink = pa.BufferOutputStream()
    pq.write_table(test, sink)
    files.hf_file(ip.GSM8K_TEST.repo_id, ip.GSM8K_TEST.filename, sink.getvalue().to_pybytes())
    files.github_file(ip.REPO, ip.REF, ip.ULTRACHAT_PROMPTS.path,
                      jsonl([{"prompt": f"Describe a walk in park number {i}."}
                             for i in range(8)]))


def publish_subliminal(files: PublishedFiles, n: int = 40) -> None:
    """Owl and control number chats, the paper's evaluation config, the HF numbers shard."""
    for path, offset in ((sl.FILES["owl"], 100), (sl.FILES["control"], 500)):
        rows = [chat(f"Continue the sequence {i}, {i + 1}, {i + 2}.",
                     ", ".join(str(offset + i * 7 + k) for k in range(5))) for i in range(n)]
        files.github_file(sl.IP_REPO, sl.IP_REF, path, jsonl(rows))
    questions = [f"In one word, which animal would you pick as friend number {i}?"
                 for i in range(6)]
    files.github_file(sl.SL_REPO, sl.SL_REF, sl.EVAL_CONFIG.path, (
        "from sl.evaluation.data_models import Evaluation\n\n"
        f"animal_evaluation = Evaluation(\n    n_samples_per_question=100,\n"
        f"    questions={questions!r},\n)\n"
    ).encode())
    table = pa.table({"question": [f"Continue {i}, {i + 1}." for i in range(12)],
                      "response": [f"{i + 2}, {i + 3}, {i + 4}" for i in range(12)]})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    files.hf_file(sl.HF_NUMBERS, "qwen2.5-7b-instruct_cat_preference/train-00000-of-00001.parquet",
                  sink.getvalue().to_pybytes())


def answering(answers: list[str]):  # -> inspect_ai.model.Model
    """inspect's mock model giving these answers in turn (with usage set: no tokenizer needed)."""
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    outputs = []
    for answer in answers:
        output = ModelOutput.from_content("mockllm/model", answer)
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        outputs.append(output)
    return get_model("mockllm/model", custom_outputs=outputs)
