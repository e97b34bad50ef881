"""Records the engine persists: step runs and runs. Pydantic, since they cross processes."""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from motools._process_folders import pid_alive

StepStatus = Literal["succeeded", "cached", "failed", "skipped"]
RunStatus = Literal["running", "succeeded", "failed", "interrupted"]


def new_id(prefix: str) -> str:
    """A sortable unique id: prefix, UTC time, random suffix."""
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"


_node_of_process: dict[int, str] = {}  # pid -> Ray node id: a process never changes node


def current_ray_node() -> str | None:
    """The id of the Ray node this process runs on, or None outside Ray (never imports Ray)."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return None
    pid = os.getpid()
    if pid not in _node_of_process:
        _node_of_process[pid] = str(ray.get_runtime_context().get_node_id())
    return _node_of_process[pid]


class StepRun(BaseModel):
    """One execution (or cache hit, or failure) of one plan node."""

    id: str = Field(default_factory=lambda: new_id("step"))
    run_id: str
    plan_id: str
    key: str | None = None
    step: str
    version: str
    config: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)
    status: StepStatus
    error: str | None = None
    traceback: str | None = None
    user: str | None = None
    host: str = Field(default_factory=socket.gethostname)
    pid: int = Field(default_factory=os.getpid)
    # The Ray node that ran it (None in-process): hosts alone cannot tell apart the nodes of a
    # cluster whose nodes share a machine, or containers that share a hostname.
    node: str | None = Field(default_factory=lambda: current_ray_node())
    started_at: float = Field(default_factory=time.time)
    ended_at: float | None = None

    @property
    def runtime_seconds(self) -> float:
        """Wall time of the execution (0 for cache hits)."""
        return (self.ended_at or self.started_at) - self.started_at


class RunRecord(BaseModel):
    """One invocation of a workflow or sweep."""

    id: str = Field(default_factory=lambda: new_id("run"))
    kind: Literal["workflow", "sweep"] = "workflow"
    name: str
    command: str = ""
    user: str | None = None
    started_at: float = Field(default_factory=time.time)
    ended_at: float | None = None
    status: RunStatus = "running"
    counts: dict[str, int] = Field(default_factory=dict)
    host: str = Field(default_factory=socket.gethostname)
    pid: int = Field(default_factory=os.getpid)
    info: dict[str, Any] = Field(default_factory=dict)

    def observed_status(self) -> RunStatus:
        """The status, with `running` read as `interrupted` when its driver died on this host."""
        if self.status == "running" and self.host == socket.gethostname() \
                and not pid_alive(self.pid):
            return "interrupted"
        return self.status
