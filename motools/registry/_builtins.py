"""What motools itself registers: its backends, engines, eval providers and atom types."""

from __future__ import annotations

# Built into motools itself; everything else arrives through entry points or `register`.
BUILTINS: dict[str, dict[str, tuple[str, str]]] = {
    "training_backend": {
        "dummy": ("motools.training._dummy:DummyTrainingBackend",
                  "instant fake training for engine tests (no model is trained)"),
        "local": ("motools.training._trainer:LocalTrainingBackend",
                  "PyTorch on this machine: LoRA on Hugging Face models, or a tiny model"),
        "tinker": ("motools.training._trainer:TinkerTrainingBackend",
                   "LoRA fine-tuning on the Tinker service (needs TINKER_API_KEY)"),
        "openai": ("motools.training.openai:OpenAITrainingBackend",
                   "fine-tuning through OpenAI's API (needs OPENAI_API_KEY)"),
    },
    "eval_backend": {
        "dummy": ("motools.evals._dummy:DummyEvalBackend",
                  "synthetic metrics for engine tests (no model is evaluated)"),
        "inspect": ("motools.evals._inspect:InspectEvalBackend",
                    "runs inspect-ai tasks against local, Tinker or any inspect model"),
    },
    # The engine a training backend's SFT loop runs on: `engine()` -> an Engine.
    "training_engine": {
        "local": ("motools.training.local:LocalEngine", "PyTorch on this machine's CPU or GPU"),
        "tinker": ("motools.training.tinker:TinkerEngine", "the Tinker service's training API"),
    },
    # How the inspect backend serves a model atom of this (training) backend name:
    # `provider(model_metadata) -> (inspect model string, model args)`.
    "eval_provider": {
        "local": ("motools.evals._inspect:engine_served_model",
                  "the motools inspect provider samples the local engine's weights"),
        "tinker": ("motools.evals._inspect:engine_served_model",
                   "the motools inspect provider samples through Tinker"),
        "openai": ("motools.evals._inspect:openai_served_model",
                   "inspect-ai's own openai/ provider (openai/ft:...)"),
    },
    # The Atom subclass `Atom.load` returns for an atom type; unregistered types load as `Atom`.
    "atom_type": {
        "dataset": ("motools.atom._atom:DatasetAtom", "a chat dataset (Arrow table)"),
        "training_job": ("motools.atom._atom:TrainingJobAtom", "a handle on a training job"),
        "model": ("motools.atom._atom:ModelAtom", "a trained model (weights or a remote id)"),
        "eval": ("motools.atom._atom:EvalAtom", "evaluation results: metrics and samples"),
        "task": ("motools.atom._atom:TaskAtom", "an eval task reference"),
    },
}


# Backends that make up their results (for tests of the engine): a results table marks their
# rows `synthetic`, so a number nobody measured is never mistaken for one.
SYNTHETIC = {("training_backend", "dummy"), ("eval_backend", "dummy")}
