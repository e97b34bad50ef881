"""Steps that ask for more than the machine has: refused at once on an embedded Ray.

Ray itself would queue such a task forever. (Placement on a cluster, where a GPU step must land
on a GPU node, is tested in tests/cluster/.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_a_step_asking_for_a_gpu_this_machine_lacks_is_refused_in_one_line(tmp_path):
    sweep = yaml.safe_load((REPO / "sweeps" / "hello_world_dummy.yaml").read_text())
    sweep["base"] = str(REPO / "configs" / "hello_world.yaml")
    sweep["resources"] = {"evaluate_model": {"num_gpus": 64}}
    path = tmp_path / "gpu.yaml"
    path.write_text(yaml.safe_dump(sweep))

    done = subprocess.run([sys.executable, "-m", "motools.cli", "sweep", "run", str(path)],
                          capture_output=True, text=True, timeout=240, cwd=tmp_path)

    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1  # other lines on stderr are progress
    assert "resources.evaluate_model.num_gpus" in errors[0] and "asks for 64" in errors[0]
    assert "Traceback" not in done.stdout + done.stderr
