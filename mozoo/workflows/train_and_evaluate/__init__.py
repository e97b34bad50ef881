"""train_and_evaluate: prepare a dataset, fine-tune a model on it, evaluate the model.

Example:
    >>> from motools.workflow import run_workflow
    >>> from mozoo.workflows.train_and_evaluate import (
    ...     train_and_evaluate_workflow, TrainAndEvaluateConfig)
    >>> config = TrainAndEvaluateConfig.from_yaml("configs/hello_world.yaml")
    >>> result = run_workflow(workflow=train_and_evaluate_workflow, input_atoms={},
    ...                       config=config, user="alice")
"""

from motools.workflow import Resources, Step, Workflow
from mozoo.workflows.train_and_evaluate.config import (
    EvaluateModelConfig,
    PrepareDatasetConfig,
    SubmitTrainingConfig,
    TrainAndEvaluateConfig,
    WaitForTrainingConfig,
)
from mozoo.workflows.train_and_evaluate.steps import (
    evaluate_model,
    prepare_dataset,
    submit_training,
    wait_for_training,
)

train_and_evaluate_workflow = Workflow(
    name="train_and_evaluate",
    description="prepare a dataset, fine-tune a model on it, evaluate it with an inspect-ai task",
    input_atom_types={},
    steps=[
        Step(
            name="prepare_dataset",
            function=prepare_dataset,
            input_atom_types={},
            output_atom_types={"prepared_dataset": "dataset"},
            config_class=PrepareDatasetConfig,
        ),
        Step(
            name="submit_training",
            function=submit_training,
            input_atom_types={"prepared_dataset": "dataset"},
            output_atom_types={"training_job": "training_job"},
            config_class=SubmitTrainingConfig,
        ),
        Step(
            name="wait_for_training",
            function=wait_for_training,
            input_atom_types={"training_job": "training_job"},
            output_atom_types={"trained_model": "model"},
            config_class=WaitForTrainingConfig,
            # Waiting on a remote job is I/O: it must not hold a CPU slot others could train on.
            resources=Resources(num_cpus=0),
        ),
        Step(
            name="evaluate_model",
            function=evaluate_model,
            input_atom_types={"trained_model": "model"},
            output_atom_types={"eval_results": "eval"},
            config_class=EvaluateModelConfig,
        ),
    ],
    config_class=TrainAndEvaluateConfig,
)

__all__ = [
    "EvaluateModelConfig",
    "PrepareDatasetConfig",
    "SubmitTrainingConfig",
    "TrainAndEvaluateConfig",
    "WaitForTrainingConfig",
    "train_and_evaluate_workflow",
]
