"""A node other than node 0 is judged by its own workers, not by how its msrun ended.

Nodes simulated on one machine share node 0's address, so each node's msrun starts a scheduler
and the first to hold the port serves the cluster. When that is node 1's, it outlives the
workers and the supervisor ends it (SIGKILL): a run whose workers all trained to the end must
still end `finished` there. Which scheduler wins is a race between two real msruns, so msrun is
stood in for here by a script that does what msrun does then: start the node's worker, which
reports the end of training in its own folder, and serve on after it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fer_core.runs import rundir
from fer_core.train.parallel import msrun

# the worker's report, as a worker other than rank 0 writes it (msrun/rank-<k>/status.json)
WORKER = """
import sys, time
from fer_core.records import RunStatus
from fer_core.runs import rundir
from fer_core.train.parallel.msrun import rank_folder
from pathlib import Path
folder = rank_folder(Path(sys.argv[1]), int(sys.argv[2]))
folder.mkdir()
rundir.write_status(folder, RunStatus(state=sys.argv[3], epoch=1, epochs=1))
time.sleep(1)  # long enough for the supervisor to see a worker among msrun's children
"""


def stand_in_msrun(folder: Path, worker_state: str) -> Path:
    script = folder / "msrun"
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""
            import os, subprocess, sys, time
            args = sys.argv[1:]
            logs, rank = args[args.index("--log_dir") + 1], args[args.index("--node_rank") + 1]
            env = {{**os.environ, "MS_ROLE": "MS_WORKER", "RANK_ID": rank}}
            subprocess.run([sys.executable, "-c", {WORKER!r}, logs, rank, {worker_state!r}], env=env, check=True)
            time.sleep(600)  # the scheduler this node started serves on until it is ended
            """
        )
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(("worker_state", "code", "state"), [("finished", 0, "finished"), ("running", 1, "failed")])
def test_node_1_ends_by_what_its_workers_reported(tmp_path, worker_state, code, state):
    """Node 1's worker said it trained to the end: finished, exit 0, though msrun had to be
    killed. A worker that ended without saying so is still a failure naming msrun's end."""
    env = {
        **os.environ,
        "FER_TUI_CHECKPOINTS": str(tmp_path / "checkpoints"),
        "FER_TUI_MSRUN": str(stand_in_msrun(tmp_path, worker_state)),
    }
    port = str(msrun.free_port("127.0.0.1"))
    done = subprocess.run(
        [sys.executable, "-m", "fer_core.cli", "train", "--preset", "demo", "--epochs", "1", "--workers", "2"]
        + ["--nodes", "2", "--node_rank", "1", "--master_addr", "127.0.0.1", "--master_port", port],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (run_dir,) = (tmp_path / "checkpoints" / "demo").iterdir()
    status = rundir.read_status(run_dir)
    assert (done.returncode, status.state) == (code, state), done.stdout + done.stderr
    if state == "failed":
        assert "msrun exited with status -9" in status.message, status.message
