"""`TmlRenderer`: chat rendering for Tinker base models with the offline `tml-renderers` package.

`tml-renderers` ships the tokenizers and chat templates of several model families inside the
package, so rendering never touches the network. The SDK's own `get_tokenizer()` downloads from the
Hugging Face hub, which is why models outside these families are refused rather than half-supported.

Hybrid-thinking models are rendered in their non-thinking mode (the empty `<think></think>` block is
part of the prompt): trained answers are the answers, and a sampled reply is the answer rather than
a reasoning trace that a short `max_tokens` would cut off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from motools._errors import MissingDependencyError, UserError

Message = dict[str, str]

# (label shown to users, match on "org/name", renderer constructor). First match wins.
_FAMILIES: tuple[tuple[str, Callable[[str, str], bool], Callable[[Any], Any]], ...] = (
    ("Qwen/Qwen3.5-*", lambda org, name: org == "Qwen" and name.startswith("Qwen3.5-"),
     lambda r: r.Qwen35.disable_thinking(strip_thinking_from_history=False)),
    ("Qwen/Qwen3-VL-*-Instruct",
     lambda org, name: org == "Qwen" and name.startswith("Qwen3-VL-") and "-Instruct" in name,
     lambda r: r.Qwen3.vision_instruct(strip_thinking_from_history=False)),
    # Instruct-2507 models have no thinking mode; base models get the same plain ChatML template.
    ("Qwen/Qwen3-*-Instruct-2507, Qwen/Qwen3-*-Base",
     lambda org, name: org == "Qwen" and name.startswith("Qwen3-") and "-VL-" not in name
     and ("-Instruct" in name or name.endswith("-Base")),
     lambda r: r.Qwen3.instruct(strip_thinking_from_history=False)),
    ("Qwen/Qwen3-* (e.g. Qwen/Qwen3-8B, Qwen/Qwen3-30B-A3B)",
     lambda org, name: org == "Qwen" and name.startswith("Qwen3-") and "-VL-" not in name,
     lambda r: r.Qwen3.disable_thinking(strip_thinking_from_history=False)),
    ("deepseek-ai/DeepSeek-V3.1[-Base]",
     lambda org, name: org == "deepseek-ai" and name in ("DeepSeek-V3.1", "DeepSeek-V3.1-Base"),
     lambda r: r.DeepSeekV31()),
    ("moonshotai/Kimi-K2.5", lambda org, name: org == "moonshotai" and name == "Kimi-K2.5",
     lambda r: r.KimiK25.disable_thinking()),
    ("moonshotai/Kimi-K2-Thinking",
     lambda org, name: org == "moonshotai" and name == "Kimi-K2-Thinking",
     lambda r: r.KimiK2(strip_thinking_from_history=False)),
)

SUPPORTED_MODELS: tuple[str, ...] = tuple(label for label, _, _ in _FAMILIES)
"""The base-model name patterns `TmlRenderer` renders offline."""


def _split(base_model: str) -> tuple[str, str]:
    # Tinker names may carry a variant ("org/model/variant") or a tag ("org/model:tag").
    parts = base_model.split(":", 1)[0].split("/")
    return (parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0])


def _native_renderer(base_model: str) -> Any:
    org, name = _split(base_model)
    for _, matches, build in _FAMILIES:
        if matches(org, name):
            try:
                from tml_renderers import renderers
            except ImportError as exc:
                raise MissingDependencyError(
                    "the tinker engine renders chats with tml-renderers: pip install 'motools[tinker]'"
                ) from exc
            return build(renderers)
    raise UserError(
        f"no offline chat renderer for base model {base_model!r}: tml-renderers covers "
        f"{'; '.join(SUPPORTED_MODELS)}; other models would need the Tinker SDK's tokenizer, "
        "which downloads from the Hugging Face hub"
    )


def is_supported(base_model: str) -> bool:
    """Whether `TmlRenderer` can render chats for `base_model` offline."""
    org, name = _split(base_model)
    return any(matches(org, name) for _, matches, _ in _FAMILIES)


def _tokens(spans: Sequence[Any]) -> list[int]:
    tokens: list[int] = []
    for span in spans:
        inner = span.span
        if not hasattr(inner, "tokens"):
            raise ValueError(f"cannot train on a non-text chat span ({type(inner).__name__})")
        tokens.extend(int(t) for t in inner.tokens)
    return tokens


class TmlRenderer:
    """The motools `Renderer` of a Tinker base model, built on `tml-renderers` (works offline).

    Args:
        base_model: A Tinker base model name, e.g. `Qwen/Qwen3-8B`; see `SUPPORTED_MODELS`.

    Raises:
        UserError: `base_model` is not in a family tml-renderers ships.
        MissingDependencyError: tml-renderers is not installed.
    """

    def __init__(self, base_model: str) -> None:
        self.base_model = base_model
        self._native = _native_renderer(base_model)
        self._tokenizer = self._native.tokenizer
        self._stop = self._stop_tokens(self._native.stop())

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (TmlRenderer, (self.base_model,))

    def __repr__(self) -> str:
        return f"TmlRenderer({self.base_model!r})"

    def _stop_tokens(self, stop: list[int] | list[str] | str | None) -> list[int]:
        if stop is None:
            return []
        items = [stop] if isinstance(stop, str) else list(stop)
        return [t if isinstance(t, int) else self._tokenizer.encode_special(t) for t in items]

    def _messages(self, messages: Sequence[Message]) -> Any:
        from tml_renderers import chat

        return chat.MessageList.from_oss_messages([dict(m) for m in messages])

    @property
    def tokenizer(self) -> Any:
        """The family's `tml_renderers` tokenizer (`encode_ordinary`, `decode`, ...)."""
        return self._tokenizer

    @property
    def stop(self) -> list[int]:
        """Token ids that end an assistant turn."""
        return list(self._stop)

    def render_for_sft(self, messages: Sequence[Message]) -> tuple[list[int], list[float]]:
        """Tokens of the whole chat; weight 1 on assistant tokens (and their end token), else 0.

        Raises:
            ValueError: The renderer splits this chat into several training sequences.
        """
        examples = self._native.render_for_sft(self._messages(messages))
        if len(examples) != 1:
            raise ValueError(
                f"{self.base_model} renders this chat as {len(examples)} training sequences; "
                "motools trains one sequence per chat"
            )
        example = examples[0]
        tokens = _tokens(example.input_token_spans)
        weights = [float(w) for w in example.per_token_loss_weight_unshifted]
        if len(tokens) != len(weights):
            raise ValueError(f"renderer gave {len(tokens)} tokens but {len(weights)} weights")
        return tokens, weights

    def render_prompt(self, messages: Sequence[Message]) -> list[int]:
        """Tokens that prompt the model for the next assistant turn."""
        spans, _ = self._native.render_for_completion(self._messages(messages))
        return _tokens(spans)

    def decode(self, tokens: Sequence[int]) -> str:
        """The answer text of sampled tokens, up to the first stop token; reasoning is dropped.

        Output cut off before a stop token is decoded as far as it goes; output the chat parser
        rejects is decoded verbatim (markup included) rather than lost.
        """
        from tml_renderers import chat

        tokens = [int(t) for t in tokens]
        end = next((i for i, t in enumerate(tokens) if t in self._stop), None)
        body = tokens if end is None else tokens[:end]
        # Every prompt of a family ends in the same assistant header, so any prompt's parser fits.
        _, parser = self._native.render_for_completion(self._messages([{"role": "user",
                                                                         "content": ""}]))
        try:
            parsed = parser.parse_tokens(body + self._stop[:1])
        except ValueError:
            return str(self._tokenizer.decode(body))
        return "".join(m.content.text for m in parsed if isinstance(m.content, chat.Text))
