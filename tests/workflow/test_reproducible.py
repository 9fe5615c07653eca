"""Iterations made again: a forced rerun of one iteration gives the same batch and metrics,
a changed setting reruns only what depends on it, and a run killed in the middle of an
iteration completes when started again, with the same results as one never killed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from alspec.io import read_json

from conftest import BIN, REPO, SHARDED, project, snakemake

pytestmark = pytest.mark.slow
SHARDS = 6  # SHARDED's ingest jobs


def jobs(output: str) -> list[tuple[str, dict[str, str]]]:
    """The (rule, wildcards) of every job Snakemake's output says it runs (or would run)."""
    found = []
    for block in re.split(r"\n(?=(?:local)?(?:rule|checkpoint) \w+:)", "\n" + output):
        head = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):", block)
        if head:
            wildcards = re.search(r"wildcards: (.*)", block)
            pairs = wildcards.group(1).split(", ") if wildcards else []
            found.append((head.group(1), dict(pair.split("=", 1) for pair in pairs)))
    return found


def iterations_of(run_jobs: list[tuple[str, dict[str, str]]]) -> set[str]:
    return {wildcards["n"] for _, wildcards in run_jobs if "n" in wildcards}


def products(workdir: Path, n: int) -> dict[str, str]:
    record = read_json(workdir / "results" / "iterations" / str(n) / "provenance.json")
    return {name: entry["checksum"] for name, entry in record["products"].items()}


@pytest.fixture(scope="module")
def finished(tiny_run) -> Path:
    """The sharded tiny workflow run to the end, never interrupted."""
    return tiny_run.workdir


def test_each_iteration_records_its_provenance(finished):
    record = read_json(finished / "results" / "iterations" / "1" / "provenance.json")
    assert record["iteration"] == 1
    assert record["config"]["query"]["batch_size"] == 25, "the resolved config"
    assert record["config"]["model"]["learning_rate"] == 0.001, "defaults filled in"
    assert re.fullmatch(r"[0-9a-f]{40}", record["git"]["commit"]), "the workflow's commit"
    assert {"numpy", "tensorflow-cpu", "scikit-learn", "zarr", "alspec"} <= set(record["packages"])
    seeds = record["seeds"]
    assert seeds["model.seed"] == record["config"]["model"]["seed"]
    assert seeds["query batch of this iteration"] == record["config"]["query"]["seed"] + 1
    assert record["trained_on"]["device"] == "CPU"
    # the detector's scores: discovery's anomaly source asked by them
    assert set(record["inputs"]) == {"store", "training_set", "anomaly_scores"}
    assert set(record["products"]) == {"predictions", "query", "candidates", "labels"}
    checksums = [e["checksum"] for e in [*record["inputs"].values(), *record["products"].values()]]
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", c) for c in checksums)
    assert products(finished, 0) != products(finished, 1)


def test_a_forced_rerun_of_one_iteration_gives_the_same_batch_and_metrics(finished):
    before = products(finished, 1)
    metrics = read_json(finished / "results" / "iterations" / "1" / "performance.json")
    training = read_json(finished / "results" / "iterations" / "1" / "training.json")
    run = snakemake(finished, "--forcerun", "results/iterations/1/training_set.parquet")
    assert run.returncode == 0, run.stderr[-3000:]
    rerun = jobs(run.stdout + run.stderr)
    assert {"train", "predict", "query", "evaluate"} <= {rule for rule, _ in rerun}
    assert iterations_of(rerun) == {"1"}, "iteration 0 is left alone"
    assert products(finished, 1) == before, "same predictions, batch, candidates, answers"
    assert read_json(finished / "results" / "iterations" / "1" / "performance.json") == metrics
    again = read_json(finished / "results" / "iterations" / "1" / "training.json")
    assert again["history"] == training["history"], "the same fit, epoch by epoch"


def changed(workdir: Path, section: str, settings: dict) -> subprocess.CompletedProcess:
    """A dry run with settings of one section of the config changed."""
    config = workdir / "tiny.yaml"
    original = config.read_text()
    config.write_text(yaml.safe_dump(SHARDED | {section: SHARDED[section] | settings}))
    try:
        return snakemake(workdir, "--dry-run")
    finally:
        config.write_text(original)


@pytest.mark.parametrize(
    ("section", "settings", "first_rerun"),
    [
        ("query", {"batch_size": 20}, "query"),
        ("model", {"epochs": 3}, "train"),
    ],
)
def test_a_changed_setting_reruns_only_what_depends_on_it(finished, section, settings, first_rerun):
    run = changed(finished, section, settings)
    assert run.returncode == 0, run.stderr[-3000:]
    planned = {rule for rule, _ in jobs(run.stdout + run.stderr)}
    assert first_rerun in planned
    upstream = {"simulate", "shard_lists", "ingest", "gather", "window", "features", "cold_start"}
    assert not planned & upstream, f"reran what the change cannot touch: {planned & upstream}"
    if first_rerun == "query":
        trained = [w["n"] for rule, w in jobs(run.stdout + run.stderr) if rule == "train"]
        assert trained == ["1"], "iteration 0's model does not depend on the batch size"


FIRST = "results/iterations/0/provenance.json"  # iteration 0, answered and recorded


def start(workdir: Path) -> subprocess.Popen:
    """The workflow up to FIRST in its own process group, ingesting one shard at a time
    (each ingest job takes both cores; the model's steps keep the thread count their
    results need)."""
    command = [
        str(BIN / "snakemake"), FIRST,
        "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(workdir / "tiny.yaml"),
        "--cores", "2",
        "--set-threads", "ingest=2",
    ]  # fmt: skip
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(workdir)}
    return subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def kill_when(process: subprocess.Popen, ready, timeout: float = 900) -> None:
    """Kill the run and every job it started (SIGKILL, as a node failure would) once
    `ready()` holds."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the run finished before it could be killed"
        assert time.monotonic() < deadline, "the run never reached the point to kill it"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_a_run_killed_mid_iteration_completes_without_redoing_finished_work(finished, tmp_path):
    workdir = project(tmp_path, SHARDED)
    logs = workdir / "results" / "logs"

    # killed while ingesting: a third shard's log means two shards are done
    kill_when(start(workdir), lambda: len(list((logs / "ingest").glob("*.log"))) >= 3)
    assert snakemake(workdir, "--unlock").returncode == 0
    plan = snakemake(workdir, "--dry-run", FIRST)
    left = [w["shard"] for rule, w in jobs(plan.stdout + plan.stderr) if rule == "ingest"]
    assert 0 < len(left) <= SHARDS - 2, f"finished shards are not redone: {left}"
    shards = workdir / "results" / "pool" / "shards"
    done = {s: snapshot(shards / s) for s in {f"{i:05d}" for i in range(SHARDS)} - set(left)}

    # killed again in iteration 0, while its model trains
    kill_when(start(workdir), (logs / "train" / "0.log").exists)
    assert snakemake(workdir, "--unlock").returncode == 0
    run = snakemake(workdir, FIRST)
    assert run.returncode == 0, run.stderr[-3000:]
    resumed = {rule for rule, _ in jobs(run.stdout + run.stderr)}
    assert {"train", "predict", "query"} <= resumed, "the iteration killed is completed"
    upstream = {"simulate", "ingest", "gather", "window", "cold_start"}  # all done before train
    assert not resumed & upstream, f"finished work redone: {resumed & upstream}"
    assert {s: snapshot(shards / s) for s in done} == done, "finished shards untouched"
    assert products(workdir, 0) == products(finished, 0), "the same as a run never killed"
