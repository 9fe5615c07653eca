"""The evaluation stage's steps, one per command: `evaluate` estimates how good an
iteration's candidates are, `evaluate_ranking` scores anomaly mode's ranking,
`provenance` records what an iteration was made from (workflow/rules/evaluation.smk)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from alspec.config.schema import resolve
from alspec.evaluation.metrics import (
    candidate_precision,
    picks_by_reason,
    pool_estimate,
    scarce_classes,
    truth_scores,
)
from alspec.evaluation.provenance import record
from alspec.evaluation.ranking import class_ranking_scores
from alspec.io import read_json, read_table, write_json
from alspec.vocabulary import PREDICTED, UNSURE


def evaluate(
    *,
    iteration: int,
    labels: str | Path,
    training_set: str | Path,
    predictions: str | Path,
    candidates: str | Path,
    out: Path,
    settings: Mapping[str, Any],
    training_report: str | Path | None = None,
    truth: str | Path | None = None,
    held_out: str | Path | None = None,
) -> dict[str, Any]:
    """The evaluate step: the candidates' precision estimated from this batch's random
    sample (FR12, at evaluation.confidence), the pool sample's estimate (FR13), what each
    source of the batch found, the scarce classes of interest (fewer labels than
    query.discovery.min_examples), the validation F1, and the scores against a `truth`
    table and the `held_out` set where there are such. Writes and returns the report."""
    classes, interest = settings["classes"], settings["classes_of_interest"]
    confidence = settings["evaluation"]["confidence"]
    answers = read_table(labels, required=("id", "label", "reason", "predicted"))
    found = read_table(candidates)
    trained_on = read_table(training_set, required=("id", "label"))
    labelled = pd.concat([trained_on["label"], answers["label"]], ignore_index=True)
    min_examples = settings["query"]["discovery"]["min_examples"]
    report = {
        "iteration": iteration,
        "training_set_size": len(trained_on),
        "candidates": len(found),
        "candidates_predicted": int((found["source"] == PREDICTED).sum()),
        "candidate_precision": candidate_precision(answers, interest, confidence),
        "pool_sample": pool_estimate(answers, interest, confidence),
        "batch": picks_by_reason(answers, interest),
        "scarce": scarce_classes(labelled, interest, min_examples),
    }
    if training_report:
        training = read_json(training_report)
        report["validation_f1"] = training["validation_f1"]
        if training.get("not_measurable"):
            report["not_measurable"] = training["not_measurable"]
    known = {key: path for key, path in (("truth", truth), ("held_out", held_out)) if path}
    predicted = read_table(predictions, required=("id", "predicted")) if known else None
    for key, path in known.items():
        report[key] = truth_scores(
            predicted, read_table(path, required=("id", "label")), classes, interest
        )
    write_json(report, out)
    return report


def evaluate_ranking(
    *,
    iteration: int,
    scores: str | Path,
    ranked: str | Path,
    labels: str | Path,
    training_set: str | Path,
    out: Path,
    settings: Mapping[str, Any],
    truth: str | Path | None = None,
) -> dict[str, Any]:
    """The evaluate step of anomaly mode: the batch's relevance answers and, with a
    `truth` table, each class's rank-weighted score and recall (not anomaly.inliers)
    before and after relevance learning. Writes and returns the report."""
    answers = read_table(labels, required=("id", "label"))
    given = answers.loc[answers["label"] != UNSURE, "label"].astype(int)
    report: dict[str, Any] = {
        "mode": "anomaly",
        "iteration": iteration,
        "training_set_size": len(read_table(training_set)),
        "batch_relevance": {
            "mean": float(given.mean()) if len(given) else None,
            "counts": {str(k): int(v) for k, v in given.value_counts().sort_index().items()},
        },
    }
    if truth:
        known = read_table(truth, required=("id", "label")).set_index("id")["label"]
        raw = read_table(scores, required=("id", "score"))
        raw = raw.sort_values("score", ascending=False, kind="stable")
        after = read_table(ranked, required=("id", "trained_score"))
        classes = sorted(set(known) - set(settings["anomaly"]["inliers"]))
        report["before"] = class_ranking_scores(known.reindex(raw["id"]).to_numpy(), classes)
        report["after"] = class_ranking_scores(known.reindex(after["id"]).to_numpy(), classes)
    write_json(report, out)
    return report


def provenance(
    *,
    iteration: int,
    config: Mapping[str, Any],
    inputs: Mapping[str, Path],
    products: Mapping[str, Path],
    training_report: Path,
    repository: Path,
    out: Path,
) -> dict[str, Any]:
    """The provenance step: iteration `iteration`'s record (the whole `config`, resolved,
    its query's seed query.seed + iteration, versions, commit, checksums), written to
    `out` and returned."""
    config = resolve(dict(config))
    query_seed = config["query"]["seed"] + iteration
    made = record(
        iteration, config, query_seed, inputs, products, read_json(training_report), repository
    )
    write_json(made, out)
    return made
