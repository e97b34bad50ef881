"""A tiny byte-level causal transformer (~144k parameters), and where and how it runs."""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from motools._atomic import write_atomic
from motools.training.local._renderer import CONTEXT, VOCAB_SIZE

WEIGHTS_FILE = "model.pt"
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the model; saved next to its weights."""

    vocab_size: int = VOCAB_SIZE
    context: int = CONTEXT
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    d_ff: int = 256


def select_device() -> torch.device:
    """The device every local model runs on: `MOTOOLS_TORCH_DEVICE`, else CUDA if present, else CPU.

    Also sets the CPU thread count (`MOTOOLS_TORCH_THREADS`, default 1): on a few shared cores,
    more threads made identical runs up to 15x slower.
    """
    torch.set_num_threads(max(1, int(os.environ.get("MOTOOLS_TORCH_THREADS", "1"))))
    name = os.environ.get("MOTOOLS_TORCH_DEVICE") or (
        "cuda" if torch.cuda.is_available() else "cpu"
    )
    return torch.device(name)


class _Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, cfg.d_model)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.n_heads, d // self.n_heads).unbind(2)
        att = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
        )
        x = x + self.proj(att.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.ln2(x))


class TinyByteLM(nn.Module):
    """Causal transformer over bytes with learned positions.

    Args:
        cfg: Model shape.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.context, cfg.d_model)
        self.blocks = nn.ModuleList(_Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits `(batch, time, vocab)` for token ids `(batch, time)`, time <= context."""
        t = tokens.shape[1]
        if t > self.cfg.context:
            raise ValueError(f"{t} tokens exceed the model context of {self.cfg.context}")
        x = self.tok(tokens) + self.pos(torch.arange(t, device=tokens.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def build_model(cfg: ModelConfig, seed: int, device: torch.device) -> TinyByteLM:
    """A freshly initialised model; the same seed gives the same weights on any machine."""
    generator = torch.Generator().manual_seed(seed)
    model = TinyByteLM(cfg)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.zero_()
            elif param.ndim == 1:  # LayerNorm gains
                param.fill_(1.0)
            else:
                param.normal_(0.0, 0.02, generator=generator)
    return model.to(device)


def save_weights(model: TinyByteLM, folder: Path) -> Path:
    """Write the state dict and config to `folder` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_torch_atomic(state, folder / WEIGHTS_FILE)
    write_atomic(folder / CONFIG_FILE, json.dumps(asdict(model.cfg), indent=2, sort_keys=True))
    return folder


def load_weights(folder: Path, device: torch.device) -> TinyByteLM:
    """The model `save_weights` wrote to `folder`."""
    cfg = ModelConfig(**json.loads((folder / CONFIG_FILE).read_text()))
    model = TinyByteLM(cfg)
    model.load_state_dict(torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True))
    return model.to(device)


def save_torch_atomic(obj: object, path: Path) -> None:
    # A trainer killed mid-write must not leave a truncated checkpoint under the final name. The
    # bytes go through a buffer: torch names a file's zip records after the file, and the
    # temporary name is random, so saving to it would make equal weights differ byte for byte.
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomic(path, buffer.getvalue())
