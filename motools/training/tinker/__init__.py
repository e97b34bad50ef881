"""The `tinker` training engine: LoRA fine-tuning and sampling on the Tinker service.

Chats are rendered offline with `tml-renderers`; the Tinker SDK is imported only when a client is
made, and importing this package constructs no client.
"""

from motools.training.tinker._engine import TinkerEngine
from motools.training.tinker._renderer import SUPPORTED_MODELS, TmlRenderer, is_supported

__all__ = ["SUPPORTED_MODELS", "TinkerEngine", "TmlRenderer", "is_supported"]
