"""Rendering for Tinker models outside tml-renderers: the model's own chat template."""

from __future__ import annotations

import pytest

from motools.training.tinker import TinkerEngine, TmlRenderer
from motools.training.tinker._hub_renderer import HubChatRenderer

EOS = 1


class ChatTemplateTokenizer:
    """A transformers-like tokenizer: one token per character, a tagged chat template."""

    eos_token_id = EOS

    def apply_chat_template(self, messages, tokenize=True, add_generation_prompt=False):
        text = "".join(f"<{m['role']}>{m['content']}\x01" for m in messages)
        if add_generation_prompt:
            text += "<assistant>"
        return [EOS if c == "\x01" else ord(c) + 2 for c in text]

    def decode(self, tokens, skip_special_tokens=True):
        return "".join(chr(t - 2) for t in tokens if not (skip_special_tokens and t == EOS))


CHAT = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, World!"}]


def test_weights_are_one_exactly_on_the_reply_and_its_end_token():
    renderer = HubChatRenderer("meta-llama/Llama-3.2-1B", tokenizer=ChatTemplateTokenizer())
    tokens, weights = renderer.render_for_sft(CHAT)
    prompt = renderer.render_prompt(CHAT[:1])
    assert tokens[: len(prompt)] == prompt
    assert weights == [0.0] * len(prompt) + [1.0] * (len(tokens) - len(prompt))
    assert renderer.decode(tokens[len(prompt):]) == "Hello, World!"


def test_the_last_message_must_be_the_assistants():
    renderer = HubChatRenderer("m", tokenizer=ChatTemplateTokenizer())
    with pytest.raises(ValueError, match="assistant"):
        renderer.render_for_sft(CHAT[:1])


def test_offline_the_engine_keeps_refusing_models_without_an_offline_renderer(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(Exception, match="no offline chat renderer"):
        TinkerEngine().renderer("meta-llama/Llama-3.2-1B").render_prompt(CHAT[:1])


def test_supported_families_always_render_offline(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert isinstance(TinkerEngine().renderer("Qwen/Qwen3-8B"), TmlRenderer)
