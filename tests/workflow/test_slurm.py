"""The tiny workflow's first iteration through `snakemake --profile profiles/slurm` on a
real single-node Slurm that scripts/slurm brings up (and stops) around the test: every
kind of rule runs as a job once (a second iteration runs the same rules again, and
takes CI minutes)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, REPO, TINY, project

pytestmark = pytest.mark.slow
SLURMCTLD = Path("/usr/sbin/slurmctld")
# This one node has 2 cores, a pretend GPU and no accounting: small jobs, job states from
# squeue (sacct needs accounting). Partitions come from the environment, as on a cluster.
ONE_NODE = [
    "--jobs", "2",
    "--default-resources", "mem_mb=1000", "runtime=10",
    "--slurm-status-command", "squeue",
    "--slurm-init-seconds-before-status-checks", "2",
    "--latency-wait", "5",
]  # fmt: skip


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if os.geteuid() != 0 or not SLURMCTLD.exists():
        pytest.skip("a single-node Slurm needs root and Debian's slurm-wlm: run `make env` as root")
    env = os.environ | {"ALSPEC_SLURM_DIR": str(tmp_path_factory.mktemp("slurm"))}
    script = REPO / "scripts" / "slurm"
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield env
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, check=False)


def test_an_iteration_runs_as_slurm_jobs(slurm, tmp_path):
    project(tmp_path, TINY | {"iterations": 1})
    command = [
        BIN / "snakemake",
        "--snakefile", REPO / "Snakefile",
        "--directory", tmp_path,
        "--configfile", tmp_path / "tiny.yaml",
        "--profile", REPO / "profiles" / "slurm",
        *ONE_NODE,
    ]  # fmt: skip
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path)}
    env |= {"ALSPEC_SLURM_PARTITION": "debug", "ALSPEC_SLURM_GPU_PARTITION": "gpu"}
    run = subprocess.run(
        list(map(str, command)), capture_output=True, text=True, env=env, timeout=2400
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    output = run.stdout + run.stderr
    job = r"submitted with SLURM jobid \d+ \(log: \S+/slurm_logs/rule_(\w+)/"
    submitted = set(re.findall(job, output))
    every_step = {"simulate", "ingest", "gather", "window", "features", "cold_start"}
    every_step |= {"train", "predict", "gather_predictions", "query", "evaluate", "provenance"}
    assert every_step <= submitted, f"not run as Slurm jobs: {every_step - submitted}"
    assert not {"push", "pull"} & submitted, "Label Studio is asked from where snakemake runs"
    iteration = tmp_path / "results" / "iterations" / "0"
    assert (iteration / "performance.json").exists()
    training = json.loads((iteration / "training.json").read_text())
    assert training["job"]["slurm_partition"] == "gpu", "the GPU partition, for one GPU"
    assert training["device"] == "CPU", "this node's GPU is pretend: TensorFlow says so"
    trained_on = json.loads((iteration / "provenance.json").read_text())["trained_on"]
    assert trained_on["slurm_job"] == training["job"]["slurm_job"]
