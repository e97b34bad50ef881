"""A tiny randomly initialised Llama saved as a Hugging Face model folder, for offline tests.

Hidden size 64, 2 layers, a byte-level BPE tokenizer trained here and a ChatML chat template: the
real code path of any Hugging Face model, with no download.
"""

from __future__ import annotations

from pathlib import Path

import torch

from mozoo.datasets.hello_world import PROMPTS, RESPONSE

CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + "
          "'<|im_end|>' + '\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def save_tiny_llama(folder: Path, seed: int, attention_dropout: float = 0.0) -> str:
    """A random 2-layer Llama with its own tokenizer and chat template, as a model folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe.train_from_iterator([*PROMPTS, RESPONSE, "user assistant system"] * 3, trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>", bos_token="<|im_start|>")
    tokenizer.chat_template = CHATML
    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
        attention_dropout=attention_dropout,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id))
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return str(folder)
