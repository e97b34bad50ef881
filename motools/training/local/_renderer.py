"""Byte-level chat rendering for the local model: raw UTF-8 bytes plus a few special tokens.

Prompts are right-aligned in a fixed window (left-padded with PAD), so the reply always starts at
the same position. A from-scratch model with learned positions then learns a prompt-independent
reply from ~100 chats; with prompts at varying positions it memorises instead of generalising.
"""

from __future__ import annotations

from collections.abc import Sequence

Message = dict[str, str]

PAD, BOS, SYSTEM, USER, ASSISTANT, EOT = range(256, 262)
VOCAB_SIZE = 262
CONTEXT = 128
PROMPT_WINDOW = 64

_ROLE_TOKENS = {"system": SYSTEM, "assistant": ASSISTANT}


class ByteRenderer:
    """Renders chats to byte tokens for `local/tiny-byte-lm`.

    A chat renders as `[PAD..] BOS (ROLE bytes EOT)* ASSISTANT | reply-bytes EOT`, where everything
    before `|` is the prompt, right-aligned in `prompt_window` tokens (long prompts lose their
    oldest tokens). Only the last message, which must be the assistant's, is learned.

    Args:
        prompt_window: Tokens every prompt occupies.
        context: Model context; a rendered chat is at most `context + 1` tokens, since training
            shifts inputs and targets by one.
    """

    def __init__(self, prompt_window: int = PROMPT_WINDOW, context: int = CONTEXT) -> None:
        if not 2 <= prompt_window < context:
            raise ValueError(f"need 2 <= prompt_window < context, got {prompt_window}/{context}")
        self.prompt_window = prompt_window
        self.context = context

    def render_prompt(self, messages: Sequence[Message]) -> list[int]:
        """Tokens that prompt the model for the next assistant turn.

        Args:
            messages: The chat so far, as `{"role", "content"}` dicts.

        Returns:
            Exactly `prompt_window` tokens ending with the ASSISTANT marker.
        """
        tokens = [BOS]
        for message in messages:
            tokens.append(_ROLE_TOKENS.get(message.get("role", "user"), USER))
            tokens.extend((message.get("content") or "").encode("utf-8"))
            tokens.append(EOT)
        tokens.append(ASSISTANT)
        tokens = tokens[-self.prompt_window :]
        return [PAD] * (self.prompt_window - len(tokens)) + tokens

    def render_for_sft(self, messages: Sequence[Message]) -> tuple[list[int], list[float]]:
        """Tokens of a chat and their loss weights: 1 on the final reply's bytes and EOT.

        Args:
            messages: A chat whose last message is the assistant's.

        Returns:
            The tokens and one weight per token.

        Raises:
            ValueError: If the last message is not an assistant message.
        """
        if not messages or messages[-1].get("role") != "assistant":
            raise ValueError(
                "the local renderer learns the last message, which must be the assistant's"
            )
        prompt = self.render_prompt(messages[:-1])
        # A reply too long for the context loses its tail and EOT: a stop there would be false.
        reply = [*(messages[-1].get("content") or "").encode("utf-8"), EOT]
        reply = reply[: self.context + 1 - self.prompt_window]
        return prompt + reply, [0.0] * len(prompt) + [1.0] * len(reply)

    def decode(self, tokens: Sequence[int]) -> str:
        """Text of sampled tokens up to the first EOT; other special tokens are dropped."""
        out = bytearray()
        for token in tokens:
            if token == EOT:
                break
            if 0 <= token < 256:
                out.append(token)
        return out.decode("utf-8", errors="replace")

    @property
    def stop(self) -> list[int]:
        """Token ids that end an assistant turn."""
        return [EOT]
