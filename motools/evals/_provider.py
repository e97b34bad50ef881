"""The `motools` inspect-ai model provider: serves trained models through the training Engine surface.

Importing this module registers the provider with inspect-ai (`@modelapi(name="motools")`), so a
fresh process (a Ray worker) only needs `import motools.evals._provider` before `eval()`.

Model names are `motools/<engine>` (`motools/local`, `motools/tinker`); the model args say what to
serve:

    get_model("motools/local", weights_path="/store/.../weights", base_model="local/tiny-byte-lm")
    eval(task, model="motools/tinker",
         model_args={"weights_path": "tinker://...", "base_model": "Qwen/Qwen3-8B"})

The engine comes from `motools.training.get_engine(<engine>)`, unless model args carry
`engine_key`: the key `register_engine(engine)` returned for an engine object of this process
(tests inject fake engines that way; keys are strings, so inspect can log and memoize model args).

Generation: the chat is rendered with the engine's renderer, sampled once with greedy decoding
unless `temperature` is set, `max_tokens` defaulting to `DEFAULT_MAX_TOKENS`, stopping at the
renderer's stop tokens, and decoded. The blocking `.result()` runs in a worker thread, so the
samples of an eval (and several evals) proceed concurrently. Outputs carry token usage and the
provider counts tokens itself, so inspect never reaches for tiktoken (which downloads encodings).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

PROVIDER = "motools"
DEFAULT_MAX_TOKENS = 32

_engines: dict[str, Any] = {}
_engine_keys: dict[int, str] = {}
_engines_lock = threading.Lock()


def register_engine(engine: Any) -> str:
    """Make an engine object of this process servable; returns the `engine_key` model arg for it.

    Registering the same object again returns the same key. Keys live as long as the process.
    """
    with _engines_lock:
        key = _engine_keys.get(id(engine))
        if key is None or _engines.get(key) is not engine:
            key = f"{getattr(engine, 'name', type(engine).__name__)}-{uuid.uuid4().hex[:12]}"
            _engines[key] = engine
            _engine_keys[id(engine)] = key
        return key


def _engine(name: str, key: str | None) -> Any:
    if key is not None:
        with _engines_lock:
            engine = _engines.get(key)
        if engine is None:
            raise ValueError(f"no engine registered under engine_key {key!r} in this process")
        return engine
    from motools.training import get_engine  # type: ignore[attr-defined]

    return get_engine(name)


def to_chat(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """inspect messages as the `{"role", "content"}` dicts renderers take (text only)."""
    return [{"role": m.role, "content": m.text} for m in messages]


_STOP_REASONS = {"stop": "stop", "length": "max_tokens"}


@modelapi(name=PROVIDER)
class MotoolsModelAPI(ModelAPI):
    """Serves `weights_path` of `base_model` through the engine named by the model name."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        *,
        weights_path: str | None = None,
        base_model: str | None = None,
        engine_key: str | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        if model_args:
            raise ValueError(
                f"unknown model args for {PROVIDER}/{model_name}: {', '.join(sorted(model_args))} "
                "(accepted: weights_path, base_model, engine_key)"
            )
        if not weights_path or not base_model:
            raise ValueError(
                f"{PROVIDER}/{model_name} needs model args weights_path and base_model"
            )
        self.weights_path = str(weights_path)
        self.base_model = base_model
        self.engine = _engine(model_name, engine_key)
        self.renderer = self.engine.renderer(base_model)
        self._client: Any = None
        self._client_lock = threading.Lock()

    def _sampling_client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = self.engine.sampling_client(self.weights_path, self.base_model)
            return self._client

    def _sample(self, prompt: list[int], params: Any) -> list[int]:
        from tinker import types

        future = self._sampling_client().sample(types.ModelInput.from_ints(prompt), 1, params)
        response = future.result() if hasattr(future, "result") else future
        sequence = response.sequences[0]
        return list(sequence.tokens), getattr(sequence, "stop_reason", "stop")

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        from tinker import types

        prompt = list(self.renderer.render_prompt(to_chat(input)))
        params = types.SamplingParams(
            max_tokens=config.max_tokens or DEFAULT_MAX_TOKENS,
            temperature=0.0 if config.temperature is None else config.temperature,
            top_p=1.0 if config.top_p is None else config.top_p,
            seed=config.seed,
            stop=list(self.renderer.stop),
        )
        tokens, stop_reason = await asyncio.to_thread(self._sample, prompt, params)
        output = ModelOutput.from_content(
            model=self.model_name,
            content=self.renderer.decode(tokens),
            stop_reason=_STOP_REASONS.get(str(stop_reason), "unknown"),  # type: ignore[arg-type]
        )
        output.usage = ModelUsage(
            input_tokens=len(prompt), output_tokens=len(tokens), total_tokens=len(prompt) + len(tokens)
        )
        return output

    async def count_text_tokens(self, text: str) -> int:
        """Roughly 4 characters a token; never tiktoken, which downloads its encodings."""
        return max(1, (len(text) + 3) // 4) if text else 0

    def max_tokens(self) -> int | None:
        return DEFAULT_MAX_TOKENS

    def connection_key(self) -> str:
        return f"{self.model_name}:{self.weights_path}"
