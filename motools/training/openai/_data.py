"""A dataset as OpenAI's chat fine-tuning file: one `{"messages": [...]}` per line.

Checked here, before anything is uploaded, with the rules OpenAI applies (a rejected file costs a
round trip and, worse, a failed job): every row has a `messages` list of system/user/assistant
turns with text content, at least one assistant turn to learn from, and the file has at least
`MIN_EXAMPLES` rows. Other columns of the dataset are not sent.
"""

from __future__ import annotations

import json
from typing import Any

from motools._errors import UserError
from motools.atom._dataset import Dataset

ROLES = ("system", "user", "assistant")
MIN_EXAMPLES = 10


def _message(row: int, i: int, message: Any) -> dict[str, str]:
    where = f"training example {row}, message {i}"
    if not isinstance(message, dict):
        raise UserError(f"{where}: expected an object with 'role' and 'content'")
    role, content = message.get("role"), message.get("content")
    if role not in ROLES:
        raise UserError(f"{where}: role {role!r} is not one OpenAI fine-tuning accepts "
                        f"({', '.join(ROLES)})")
    if not isinstance(content, str):
        raise UserError(f"{where}: content must be text, got {type(content).__name__}")
    return {"role": role, "content": content}


def to_chat_jsonl(dataset: Dataset) -> bytes:
    """The dataset as chat JSONL bytes for `files.create(purpose="fine-tune")`.

    Raises:
        UserError: A row OpenAI would reject, or fewer than `MIN_EXAMPLES` rows (one line).
    """
    if "messages" not in dataset.columns:
        raise UserError("the openai training backend needs a 'messages' column of chats; the "
                        f"dataset has {', '.join(dataset.columns) or 'no columns'}")
    if len(dataset) < MIN_EXAMPLES:
        raise UserError(f"OpenAI fine-tuning needs at least {MIN_EXAMPLES} training examples; "
                        f"the dataset has {len(dataset)}")
    lines = []
    for row, record in enumerate(dataset):
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages:
            raise UserError(f"training example {row}: 'messages' must be a non-empty list")
        chat = [_message(row, i, m) for i, m in enumerate(messages)]
        if not any(m["role"] == "assistant" for m in chat):
            raise UserError(f"training example {row} has no assistant message to learn from")
        lines.append(json.dumps({"messages": chat}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")
