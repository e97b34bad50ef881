"""Example 2: run the train_and_evaluate workflow, then look at everything it produced.

The walkthrough of docs/workflows.md, end to end:

1. build a TrainAndEvaluateConfig (from configs/hello_world.yaml),
2. run it with `run_workflow`,
3. read each step's status and runtime from `result.step_states`,
4. load the dataset, model and eval atoms the steps produced,
5. follow provenance from the eval results back to the dataset,
6. run the same config again: every step is served from the cache.

Run it from anywhere (paths are resolved relative to this file):

    python examples/2_workflow.py                    # steps run as Ray tasks (the default)
    python examples/2_workflow.py --executor inline  # steps run one by one in this process

Atoms and run records go to the store at $MOTOOLS_STORE (default: ./.motools).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from motools.atom import DatasetAtom, EvalAtom, ModelAtom
from motools.engine import RunOptions, get_ledger
from motools.workflow import WorkflowResult, run_workflow
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig, train_and_evaluate_workflow

REPO = Path(__file__).resolve().parent.parent
# The product page's hello_world config, on the offline `dummy` backends: no API key needed, but
# nothing is really trained or evaluated and the metrics are synthetic (deterministic) numbers.
CONFIG = REPO / "configs" / "hello_world.yaml"


def print_steps(result: WorkflowResult) -> None:
    for state in result.step_states:
        print(f"  {state.name:<18} {state.status:<9} {state.runtime_seconds:7.3f}s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executor", choices=["ray", "inline"], default="ray")
    args = parser.parse_args(argv)

    # 1. The config: one section per step. It is validated when loaded (unknown keys, wrong
    #    types, loaders that cannot be imported), before anything runs.
    config = TrainAndEvaluateConfig.from_yaml(CONFIG)
    print(f"== config ({CONFIG.name}) ==")
    print(config.to_yaml())

    # 2. Run the workflow. A failing step does not raise: it shows up in `result.failures`;
    #    raise_for_failures() turns that into an exception for a script like this one.
    result = run_workflow(workflow=train_and_evaluate_workflow, input_atoms={}, config=config,
                          user="alice", options=RunOptions(executor=args.executor))
    result.raise_for_failures()

    # 3. One state per step: status (succeeded = ran now, cached = reused) and wall time.
    print(f"== first run: {result.run_id} ==")
    print_steps(result)

    # 4a. The dataset atom: `DatasetAtom.load(id)` finds the atom, `.load()` reads its content.
    dataset_id = result.step_states["prepare_dataset"].output_atoms["prepared_dataset"]
    dataset = DatasetAtom.load(dataset_id).load()
    print(f"\n== dataset {dataset_id} ==")
    print(f"  {len(dataset)} samples, columns {dataset.columns}; sample 0:")
    for message in dataset[0]["messages"]:
        print(f"    {message['role']}: {message['content']}")

    # 4b. The model atom: what a backend samples the fine-tuned model by.
    model = result.get_atom("trained_model")
    assert isinstance(model, ModelAtom)
    print(f"\n== model {model.id} ==")
    print(f"  model id: {model.get_model_id()}")

    # 4c. The eval atom: task -> metric -> value.
    evaluation = result.get_atom("eval_results")
    assert isinstance(evaluation, EvalAtom)
    print(f"\n== eval results {evaluation.id} ==")
    for task, metrics in evaluation.load().metrics.items():
        shown = ", ".join(f"{name}={value}" for name, value in metrics.items())
        print(f"  {task}: {shown}")

    # 5. Provenance: every atom records what it was made from and by whom; the Ledger walks
    #    the chain of step runs from the eval results back to the dataset.
    print("\n== provenance ==")
    print(f"  eval results made from: {evaluation.made_from} (user: {evaluation.user})")
    for step_run in get_ledger(result.store).lineage(evaluation.id):
        inputs = ", ".join(f"{k}={v}" for k, v in step_run.inputs.items()) or "(no inputs)"
        print(f"  {step_run.step:<18} <- {inputs}")

    # 6. The same config again: nothing changed, so every step is a cache hit and the outputs
    #    are the very same atoms.
    again = run_workflow(workflow=train_and_evaluate_workflow, input_atoms={}, config=config,
                         user="alice", options=RunOptions(executor=args.executor))
    print(f"\n== second run: {again.run_id} ==")
    print_steps(again)
    same = again.get_atom("eval_results").id == evaluation.id
    print(f"  same eval atom as the first run: {same}")


if __name__ == "__main__":
    main()
