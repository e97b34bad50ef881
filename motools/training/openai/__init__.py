"""The `openai` training backend: fine-tuning through OpenAI's API (upload, job, poll).

Importing this package imports neither the OpenAI SDK nor makes a client; both happen when a job
is submitted or waited on. The fine-tuned `ft:...` model is evaluated through inspect-ai's own
`openai/` provider (`motools.evals`), not through a provider of motools.
"""

from motools.training.openai._backend import OpenAITrainingBackend, check_config
from motools.training.openai._client import check_ready
from motools.training.openai._limit import DEFAULT_MAX_OPEN, MAX_OPEN_VAR, max_open_jobs

__all__ = [
    "DEFAULT_MAX_OPEN",
    "MAX_OPEN_VAR",
    "OpenAITrainingBackend",
    "check_config",
    "check_ready",
    "max_open_jobs",
]
