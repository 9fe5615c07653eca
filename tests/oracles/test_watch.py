"""Which batch `alspec watch` waits for, and what it builds once the batch is answered."""

from __future__ import annotations

import json
from pathlib import Path

from alspec.oracles.watch import Workflow


def pushed(results, batch: str, answered: bool) -> None:
    folder = results / batch
    folder.mkdir(parents=True)
    (folder / "batch.json").write_text(json.dumps({"batch": batch}))
    if answered:
        (folder / "labels.parquet").write_text("")


def test_it_waits_for_the_oldest_unanswered_batch(tmp_path):
    workflow = Workflow(("snakemake",), (), tmp_path, iterations=12)
    assert workflow.pending() is None
    pushed(tmp_path, "cold_start", answered=True)
    for n, answered in [(0, True), (2, False), (10, False)]:
        pushed(tmp_path, f"iterations/{n}", answered)
    assert workflow.pending() == tmp_path / "iterations" / "2" / "batch.json"


def test_an_answered_batch_runs_the_next_iteration_up_to_its_batch():
    workflow = Workflow(("snakemake",), (), Path("results"), iterations=3)
    assert workflow.targets("cold_start") == ["results/iterations/0/batch.json"]
    assert workflow.targets("iterations/1") == [
        "results/iterations/1/performance.json",
        "results/iterations/1/provenance.json",
        "results/iterations/2/batch.json",
    ]
    assert workflow.targets("iterations/2") == [], "after the last batch, the whole workflow"
