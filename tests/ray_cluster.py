"""A real multi-node Ray cluster on loopback: `ray start --head` plus `ray start --address` workers.

Every node is its own `ray start --block` process group, started and stopped here; `ray stop`
is never used, since it stops every Ray process of the user on the machine (other tests' too).

Auth is pinned rather than inherited: token auth with a token of this cluster's own, passed in
the environment. A `~/.ray/auth_token` left by an earlier run turns auth on for `ray start` and
then breaks `ray job submit` unless the mode is exported; pinning both makes the cluster behave
the same on a fresh machine and on a used one.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from s3_server import free_port

_NODES = textwrap.dedent(
    """
    import json, sys, time
    import ray
    ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
    deadline = time.time() + float(sys.argv[3])
    while True:
        nodes = [n for n in ray.nodes() if n["Alive"]]
        if len(nodes) >= int(sys.argv[2]) or time.time() > deadline:
            break
        time.sleep(0.5)
    print(json.dumps([{"id": n["NodeID"], "resources": n["Resources"]} for n in nodes]))
    """
)


class LoopbackCluster:
    """Nodes of one Ray cluster on this machine. Use `start_head`, then `add_worker`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dashboard_port = free_port()
        # Short: Ray's socket paths under the temp dir have a length limit.
        self.temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")
        bin_dir = str(Path(sys.executable).parent)  # `motools` for job entrypoints
        self.env = {
            **os.environ,
            "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
        }
        self.env.pop("RAY_ADDRESS", None)
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def dashboard(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def _start(self, args: list[str], env: dict[str, str] | None) -> None:
        log = open(Path(self.temp_dir) / f"node-{len(self._procs)}.log", "wb")  # noqa: SIM115
        # Every node's agents get ports of their own: the defaults (52365, ...) are taken by
        # the first Ray on the machine, and a node whose job agent cannot bind accepts no jobs.
        ports = [f"--{name}={free_port()}" for name in (
            "dashboard-agent-listen-port", "dashboard-agent-grpc-port", "metrics-export-port",
            "runtime-env-agent-port", "node-manager-port", "object-manager-port")]
        self._procs.append(subprocess.Popen(
            [sys.executable, "-m", "ray.scripts.scripts", "start", "--block",
             "--disable-usage-stats", *ports, *args],
            env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        ))

    def start_head(self, *, num_cpus: int, resources: dict[str, float] | None = None,
                   dashboard: bool = False, env: dict[str, str] | None = None) -> None:
        args = ["--head", f"--port={self.port}", f"--num-cpus={num_cpus}",
                f"--temp-dir={self.temp_dir}", f"--resources={json.dumps(resources or {})}"]
        if dashboard:  # the job server (`ray job submit`) lives in the dashboard
            args += ["--include-dashboard=true", "--dashboard-host=127.0.0.1",
                     f"--dashboard-port={self.dashboard_port}"]
        else:
            args.append("--include-dashboard=false")
        self._start(args, env)
        self.wait_for_nodes(1)

    def add_worker(self, *, num_cpus: int, num_gpus: int = 0,
                   resources: dict[str, float] | None = None,
                   env: dict[str, str] | None = None) -> None:
        expected = len(self._procs) + 1
        # A temp dir of its own (inside the cluster's, so `stop` finds its processes): nodes
        # sharing one would share runtime-env folders, and a worker's runtime-env agent would
        # delete the job's working dir from under the head's driver once its own tasks ended.
        temp_dir = Path(self.temp_dir) / f"n{expected}"
        self._start([f"--address={self.address}", f"--temp-dir={temp_dir}",
                     f"--num-cpus={num_cpus}",
                     f"--num-gpus={num_gpus}", f"--resources={json.dumps(resources or {})}"], env)
        self.wait_for_nodes(expected)

    def wait_for_nodes(self, count: int, timeout: float = 90) -> list[dict[str, Any]]:
        """The alive nodes (id, resources), once there are `count` of them."""
        for proc in self._procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a ray node exited with {proc.returncode}: {self.logs()}")
        out = subprocess.run([sys.executable, "-c", _NODES, self.address, str(count), str(timeout)],
                             env=self.env, capture_output=True, text=True, timeout=timeout + 60)
        if out.returncode != 0:
            raise RuntimeError(f"cannot reach the cluster: {out.stderr[-2000:]}\n{self.logs()}")
        nodes: list[dict[str, Any]] = json.loads(out.stdout.strip().splitlines()[-1])
        if len(nodes) < count:
            raise RuntimeError(f"{len(nodes)} of {count} nodes came up: {self.logs()}")
        return nodes

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:]
                         for p in sorted(Path(self.temp_dir).glob("node-*.log")))

    def ray_cli(self, *args: str, env: dict[str, str] | None = None,
                cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the `ray` command line against this cluster (e.g. `job submit`)."""
        return subprocess.run([sys.executable, "-m", "ray.scripts.scripts", *args],
                              env={**self.env, **(env or {})}, cwd=cwd, capture_output=True,
                              text=True, timeout=timeout)

    def stop(self) -> None:
        # SIGKILL: on SIGTERM each node drains for up to 30 s, and nothing here needs draining.
        for proc in reversed(self._procs):  # workers first, then the head
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        for proc in self._procs:
            proc.wait(timeout=30)
        # Raylets, workers and actors of this cluster carry its temp dir in their command lines.
        subprocess.run(["pkill", "-9", "-f", self.temp_dir], check=False)
