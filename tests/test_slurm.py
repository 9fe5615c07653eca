"""The tiny two-iteration workflow through `snakemake --profile profiles/slurm` on a real
single-node Slurm that scripts/slurm brings up (and stops) around the test."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, REPO, TINY, project

pytestmark = pytest.mark.slow
SLURMCTLD = Path("/usr/sbin/slurmctld")
# This one node has 2 cores, no GPU and no accounting: small jobs on partition debug, the
# training job without its GPU request, job states from squeue (sacct needs accounting).
ONE_NODE = [
    "--jobs", "2",
    "--default-resources", "slurm_partition=debug", "mem_mb=1000", "runtime=10",
    "--set-resources", "train:gres=none",
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


def test_two_iterations_run_as_slurm_jobs(slurm, tmp_path):
    project(tmp_path, TINY)
    command = [
        BIN / "snakemake",
        "--snakefile", REPO / "Snakefile",
        "--directory", tmp_path,
        "--configfile", tmp_path / "tiny.yaml",
        "--profile", REPO / "profiles" / "slurm",
        *ONE_NODE,
    ]  # fmt: skip
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run(
        list(map(str, command)), capture_output=True, text=True, env=env, timeout=2400
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    output = run.stdout + run.stderr
    job = r"submitted with SLURM jobid \d+ \(log: \S+/slurm_logs/rule_(\w+)/"
    submitted = set(re.findall(job, output))
    every_step = {"simulate", "ingest", "gather", "window", "features", "cold_start", "push"}
    every_step |= {"pull", "training_set", "train", "predict", "query", "evaluate"}
    assert every_step <= submitted, f"not run as Slurm jobs: {every_step - submitted}"
    for n in (0, 1):
        assert (tmp_path / "results" / "iterations" / str(n) / "performance.json").exists()
