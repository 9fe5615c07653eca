"""Where each workflow step's Slurm job runs: partition, account, GPUs (config `slurm`,
or $ALSPEC_SLURM_*), and where a running step is, for its reports.

Light on purpose: the Snakefile imports it to build the DAG.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

# Environment variables that win over config slurm, so that one config serves on
# clusters (or accounts) of different names.
SLURM_ENVIRONMENT = {
    "partition": "ALSPEC_SLURM_PARTITION",
    "gpu_partition": "ALSPEC_SLURM_GPU_PARTITION",
    "account": "ALSPEC_SLURM_ACCOUNT",
}


def slurm_placement(slurm: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Partition, GPU partition and account of the workflow's jobs: the environment
    variable of SLURM_ENVIRONMENT where set, else config `slurm`; the GPU partition
    falls back to the partition, and None leaves the choice to Slurm."""
    placement = {key: environ.get(name) or slurm[key] for key, name in SLURM_ENVIRONMENT.items()}
    placement["gpu_partition"] = placement["gpu_partition"] or placement["partition"]
    return placement


def job_resources(placement: Mapping[str, Any], gpus: int = 0) -> dict[str, Any]:
    """The Snakemake resources that place one step's Slurm job: its partition (the GPU
    partition for a job with GPUs), account and GPUs, leaving out what is unset."""
    resources = {
        "slurm_partition": placement["gpu_partition" if gpus else "partition"],
        "slurm_account": placement["account"],
        "gpu": gpus,
    }
    return {name: value for name, value in resources.items() if value}


def this_job(environ: Mapping[str, str]) -> dict[str, str | None]:
    """Where this process runs, for its reports: the host, and its Slurm job if any."""
    return {
        "host": socket.gethostname(),
        "slurm_job": environ.get("SLURM_JOB_ID"),
        "slurm_partition": environ.get("SLURM_JOB_PARTITION"),
    }
