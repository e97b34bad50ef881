"""SmolLM2-135M-Instruct on this machine: LoRA training and batched generation, tokens per second.

Runs the local engine's real clients (no Ray): a trainer process on the hello_world data (rank-8
LoRA, batch 8), then greedy generation of the 10 held-out eval prompts by the base model (which
answers at length), one at a time and as one batch. Prints tokens/s of each, the batching
speed-up, and the trainer's peak RSS (target on a CPU: <= 3 GiB). The training runs in a child
process so its peak RSS is its own.

    python benchmarks/hf_lora.py                # 4 steps
    python benchmarks/hf_lora.py --steps 8 --model local/smollm2-135m-instruct
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

TRAIN = r"""
import json, resource, sys, time
from pathlib import Path
from motools.training._protocol import Hyperparameters
from motools.training._sft import build_datums, train
from motools.training.local import LocalEngine
from mozoo.datasets.hello_world import generate_hello_world_dataset

model, steps, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
hp = Hyperparameters(n_epochs=1, learning_rate=1e-3, batch_size=8, seed=0)
engine = LocalEngine()
datums = build_datums(generate_hello_world_dataset(8 * steps).to_records(), engine.renderer(model))
start = time.perf_counter()
client = engine.training_client(model, hp, Path(workdir), None)
loaded = time.perf_counter() - start
start = time.perf_counter()
path, progress = train(client, datums, hp, checkpoint_every=10**9)
seconds = time.perf_counter() - start
tokens = sum(d.model_input.length for d in datums)
print(json.dumps({"load_s": loaded, "train_s": seconds, "steps": progress.step, "tokens": tokens,
                  "weights": path, "device": str(client.device),
                  "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def generate(model: str) -> dict[str, float]:
    from tinker import types

    from motools.training.local import LocalEngine
    from mozoo.tasks.hello_world import EVAL_PROMPTS

    engine = LocalEngine()
    # The base model: it answers at length (a trained adapter says "Hello, World!" and stops),
    # so the prompts generate up to max_tokens each. Adapters are merged: the same speed.
    renderer, sampler = engine.renderer(model), engine.sampling_client(model, model)
    params = types.SamplingParams(temperature=0, max_tokens=32, stop=renderer.stop)
    prompts = [types.ModelInput.from_ints(renderer.render_prompt([{"role": "user", "content": p}]))
               for p in EVAL_PROMPTS]
    sampler.sample(prompts[0], 1, params).result()  # warm-up
    start = time.perf_counter()
    alone = [sampler.sample(p, 1, params).result() for p in prompts]
    one_at_a_time = time.perf_counter() - start
    start = time.perf_counter()
    futures = [sampler.sample(p, 1, params) for p in prompts]
    batched = [f.result() for f in futures]
    together = time.perf_counter() - start

    def count(responses: list) -> int:  # type: ignore[type-arg]
        return sum(len(r.sequences[0].tokens) for r in responses)

    return {"alone_tok_s": count(alone) / one_at_a_time, "batched_tok_s": count(batched) / together,
            "alone_s": one_at_a_time, "batched_s": together}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local/smollm2-135m-instruct")
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        out = subprocess.run([sys.executable, "-c", TRAIN, args.model, str(args.steps), workdir],
                             check=True, capture_output=True, text=True)
        trained = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"model {args.model} on {trained['device']}")
        print(f"trainer: load {trained['load_s']:.1f} s, {trained['steps']} steps of 8 chats in "
              f"{trained['train_s']:.1f} s = {trained['train_s'] / trained['steps']:.2f} s/step, "
              f"{trained['tokens'] / trained['train_s']:.0f} training tokens/s")
        print(f"trainer peak RSS: {trained['peak_rss_gib']:.2f} GiB (target on a CPU: <= 3 GiB)")
        gen = generate(args.model)
        print(f"generation, 10 prompts x <= 32 tokens: one at a time {gen['alone_tok_s']:.0f} "
              f"tokens/s ({gen['alone_s']:.1f} s), batched {gen['batched_tok_s']:.0f} tokens/s "
              f"({gen['batched_s']:.1f} s): {gen['batched_tok_s'] / gen['alone_tok_s']:.1f}x")
        print(f"this process (sampler) peak RSS: "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
