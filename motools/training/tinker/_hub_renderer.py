"""`HubChatRenderer`: rendering through a Hugging Face tokenizer's own chat template.

For Tinker base models that tml-renderers does not ship (Llama, for example), the tokenizer and its
chat template come from the Hugging Face hub, so this needs the network; it is used only when
`HF_HUB_OFFLINE` is not set. Loss weights: 0 on the rendered prompt (everything up to the
generation prompt of the last assistant turn), 1 on the assistant's reply and its end token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Message = dict[str, str]


class HubChatRenderer:
    """Renders chats with `tokenizer.apply_chat_template` (transformers)."""

    def __init__(self, base_model: str, tokenizer: Any = None) -> None:
        if tokenizer is None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(base_model)
        self.base_model = base_model
        self._tok = tokenizer

    def _ids(self, messages: Sequence[Message], *, generation_prompt: bool) -> list[int]:
        return list(self._tok.apply_chat_template(
            [dict(m) for m in messages], tokenize=True, add_generation_prompt=generation_prompt
        ))

    def render_for_sft(self, messages: Sequence[Message]) -> tuple[list[int], list[float]]:
        """Tokens of the chat; weight 1 on the last assistant reply, 0 before it."""
        if not messages or messages[-1].get("role") != "assistant":
            raise ValueError("the last message must be the assistant's reply to learn from")
        prompt = self._ids(messages[:-1], generation_prompt=True)
        full = self._ids(messages, generation_prompt=False)
        if full[: len(prompt)] != prompt:
            raise ValueError(f"{self.base_model}: the chat template does not extend its prompt")
        return full, [0.0] * len(prompt) + [1.0] * (len(full) - len(prompt))

    def render_prompt(self, messages: Sequence[Message]) -> list[int]:
        """Tokens that prompt the model for the next assistant turn."""
        return self._ids(messages, generation_prompt=True)

    @property
    def stop(self) -> list[int]:
        """The tokenizer's end-of-sequence token(s)."""
        eos = self._tok.eos_token_id
        return [eos] if isinstance(eos, int) else list(eos or [])

    def decode(self, tokens: Sequence[int]) -> str:
        """Text up to the first stop token, special tokens dropped."""
        stops = set(self.stop)
        cut = next((i for i, t in enumerate(tokens) if t in stops), len(tokens))
        return str(self._tok.decode(list(tokens[:cut]), skip_special_tokens=True)).strip()
