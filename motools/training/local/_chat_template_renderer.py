"""Chats to tokens with a Hugging Face model's own chat template, loss weight 1 on assistant turns.

The template renders text; the text is tokenized once, and a token is learned when it starts
inside an assistant turn's span. The spans come from rendering each prefix of the chat: the text
between "the chat so far, prompting the assistant" and "the chat including the assistant's
message" is what the assistant says (its content and end-of-turn token). Tokenizing once, with
character offsets, keeps the token boundaries exactly those the model sees when it generates.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

Message = dict[str, str]

# End-of-turn tokens of common chat templates, beyond the tokenizer's eos token.
_END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>")


class ChatTemplateRenderer:
    """The `Renderer` of a Hugging Face model: its tokenizer and chat template.

    The tokenizer loads on first use, so a renderer can be made cheaply where a model is only
    being checked (the trainer's `submit`).

    Args:
        base_model: The base model name (see `motools.training.local._hf_model`).
        tokenizer: A tokenizer to use instead of the base model's (tests).
    """

    def __init__(self, base_model: str, tokenizer: Any = None) -> None:
        self.base_model = base_model
        self._tokenizer = tokenizer
        self._stop: list[int] | None = None
        self._lock = threading.Lock()

    @property
    def tokenizer(self) -> Any:
        """The tokenizer, loaded on first use."""
        with self._lock:
            if self._tokenizer is None:
                from motools.training.local._hf_model import load_tokenizer

                self._tokenizer = load_tokenizer(self.base_model)
            return self._tokenizer

    def _text(self, messages: Sequence[Message], prompt: bool) -> str:
        chat = [{"role": m.get("role", "user"), "content": m.get("content") or ""}
                for m in messages]
        return str(self.tokenizer.apply_chat_template(
            chat, tokenize=False, add_generation_prompt=prompt))

    def _encode(self, text: str, offsets: bool = False) -> Any:
        # The template writes every special token itself: the tokenizer adds none.
        return self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=offsets)

    def render_prompt(self, messages: Sequence[Message]) -> list[int]:
        """Tokens of the chat so far, ending with the template's assistant header."""
        return list(self._encode(self._text(messages, prompt=True))["input_ids"])

    def render_for_sft(self, messages: Sequence[Message]) -> tuple[list[int], list[float]]:
        """Tokens of the whole chat, weight 1 on every assistant turn (content and end of turn).

        Raises:
            ValueError: If the chat has no assistant message, or the template does not render a
                chat's prefixes as prefixes of the chat (then turns cannot be told apart).
        """
        if not any(m.get("role") == "assistant" for m in messages):
            raise ValueError("the chat has no assistant message to learn from")
        full = self._text(messages, prompt=False)
        spans: list[tuple[int, int]] = []
        for i, message in enumerate(messages):
            if message.get("role") != "assistant":
                continue
            start = self._text(messages[:i], prompt=True) if i else ""
            end = self._text(messages[: i + 1], prompt=False)
            if not (full.startswith(end) and end.startswith(start)):
                raise ValueError(f"the chat template of {self.base_model!r} does not render chats"
                                 " prefix by prefix; its assistant turns cannot be isolated")
            spans.append((len(start), len(_through_end_of_turn(end, len(start), self.stop_text))))
        encoded = self._encode(full, offsets=True)
        tokens = list(encoded["input_ids"])
        weights = [1.0 if any(a <= first < b for a, b in spans) else 0.0
                   for first, _ in encoded["offset_mapping"]]
        last = max(i for i, w in enumerate(weights) if w) if any(weights) else len(tokens) - 1
        # Nothing after the final learned turn matters (a trailing newline of the template).
        return tokens[: last + 1], weights[: last + 1]

    def decode(self, tokens: Sequence[int]) -> str:
        """Text of sampled tokens up to the first end-of-turn token."""
        stops = set(self.stop)
        kept: list[int] = []
        for token in tokens:
            if token in stops:
                break
            kept.append(int(token))
        return str(self.tokenizer.decode(kept, skip_special_tokens=True))

    @property
    def stop(self) -> list[int]:
        """Token ids that end an assistant turn: eos and the template's end-of-turn tokens."""
        if self._stop is None:  # once: the vocabulary is large
            tok = self.tokenizer
            ids = [tok.eos_token_id] if tok.eos_token_id is not None else []
            vocab = tok.get_vocab()
            ids += [vocab[t] for t in _END_OF_TURN if t in vocab]
            self._stop = sorted(set(ids))
        return list(self._stop)

    @property
    def stop_text(self) -> list[str]:
        """The end-of-turn tokens as text, to find where a rendered turn ends."""
        return [str(self.tokenizer.convert_ids_to_tokens(i)) for i in self.stop]


def _through_end_of_turn(text: str, start: int, stops: list[str]) -> str:
    """`text` cut after the first end-of-turn token at or after `start` (else all of it)."""
    ends = [text.find(s, start) for s in stops]
    found = [e + len(s) for e, s in zip(ends, stops, strict=True) if e >= 0]
    return text[: min(found)] if found else text
