"""Where each step's Slurm job runs: config slurm, the environment winning over it."""

from __future__ import annotations

from alspec.config import schema as cfg
from alspec.runtime.placement import job_resources, slurm_placement, this_job

CONFIGURED = {"partition": "cpu", "gpu_partition": "a100", "account": "survey", "gpus": {}}


def test_config_places_cpu_and_gpu_jobs():
    placement = slurm_placement(CONFIGURED, environ={})
    assert job_resources(placement) == {"slurm_partition": "cpu", "slurm_account": "survey"}
    assert job_resources(placement, gpus=2) == {
        "slurm_partition": "a100",
        "slurm_account": "survey",
        "gpu": 2,
    }


def test_the_environment_wins_over_config():
    environ = {"ALSPEC_SLURM_GPU_PARTITION": "h100", "ALSPEC_SLURM_ACCOUNT": "other"}
    placement = slurm_placement(CONFIGURED, environ)
    assert placement == {"partition": "cpu", "gpu_partition": "h100", "account": "other"}


def test_unset_settings_are_left_to_the_cluster():
    defaults = cfg.resolve({})["slurm"]
    assert defaults["gpus"] == {"train": 1, "predict": 0}
    placement = slurm_placement(defaults, environ={})
    assert job_resources(placement) == {}, "the cluster's default partition and account"
    assert job_resources(placement, gpus=1) == {"gpu": 1}
    only_partition = slurm_placement(defaults, {"ALSPEC_SLURM_PARTITION": "short"})
    assert job_resources(only_partition, gpus=1)["slurm_partition"] == "short"


def test_a_job_knows_where_it_runs():
    job = this_job({"SLURM_JOB_ID": "42", "SLURM_JOB_PARTITION": "gpu"})
    assert job["slurm_job"] == "42" and job["slurm_partition"] == "gpu" and job["host"]
    assert this_job({})["slurm_job"] is None
