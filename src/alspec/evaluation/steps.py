"""The evaluation stage's steps, one per command: `evaluate` estimates how good an
iteration's candidates are, `evaluate_ranking` scores anomaly mode's ranking,
`provenance` records what an iteration was made from (workflow/rules/evaluation.smk)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from alspec.config.schema import resolve
from alspec.evaluation.estimates import catalogue_quality
from alspec.evaluation.metrics import (
    catalogue_truth,
    picks_by_reason,
    pool_estimate,
    scarce_classes,
    truth_scores,
)
from alspec.evaluation.provenance import record
from alspec.evaluation.ranking import class_ranking_scores
from alspec.io import read_json, read_table, write_json
from alspec.query.batch import candidates
from alspec.vocabulary import INTEREST, SAMPLE_COLUMNS, UNSURE, interest_probability


def evaluate(
    *,
    iteration: int,
    labels: str | Path,
    training_set: str | Path,
    predictions: str | Path,
    query: str | Path,
    out: Path,
    settings: Mapping[str, Any],
    training_report: str | Path | None = None,
    truth: str | Path | None = None,
    held_out: str | Path | None = None,
    previous: str | Path | None = None,
) -> dict[str, Any]:
    """The evaluate step: the catalogue once the batch (`query`) is answered (`labels`),
    its precision and completeness with intervals from the estimate sample and the
    `previous` report's (FR12, alspec.evaluation.estimates), the pool sample's estimate
    (FR13), what each source of the batch found, the scarce classes of interest, the
    validation F1, the scores against a `truth` and the `held_out` set. Writes it."""
    classes, interest = settings["classes"], settings["classes_of_interest"]
    confidence = settings["evaluation"]["confidence"]
    answers = read_table(labels, required=("id", "label", "reason", "predicted"))
    trained_on = read_table(training_set, required=("id", "label"))
    predicted = read_table(predictions, required=("id", "predicted", "probability"))
    predicted[INTEREST] = interest_probability(predicted, interest)
    kept_out = read_table(held_out, required=("id", "label")) if held_out else None
    labelled = pd.concat([trained_on["label"], answers["label"]], ignore_index=True)
    held = set(kept_out["id"]) if kept_out is not None else set()
    members = candidates(predicted, pd.concat([trained_on, answers]), interest, held)
    report = {
        "iteration": iteration,
        "training_set_size": len(trained_on),
        "catalogue": catalogue_quality(
            predicted,
            members=members,
            before=trained_on,
            held_out=held,
            batch=read_table(query, required=("id", "reason", *SAMPLE_COLUMNS)),
            answers=answers,
            classes_of_interest=interest,
            confidence=confidence,
            earlier=earlier_samples(previous),
            source=str(query),
        ),
        "pool_sample": pool_estimate(answers, interest, confidence),
        "batch": picks_by_reason(answers, interest),
        "scarce": scarce_classes(
            labelled, interest, settings["query"]["discovery"]["min_examples"]
        ),
    }
    if training_report:
        training = read_json(training_report)
        report["validation_f1"] = training["validation_f1"]
        if training.get("not_measurable"):
            report["not_measurable"] = training["not_measurable"]
    report |= scores_against_truth(predicted, members, truth, kept_out, classes, interest)
    write_json(report, out)
    return report


def scores_against_truth(
    predicted: pd.DataFrame,
    members: pd.DataFrame,
    truth: str | Path | None,
    kept_out: pd.DataFrame | None,
    classes: list[str],
    interest: list[str],
) -> dict[str, Any]:
    """The predictions scored against a `truth` table and the held-out set where there
    are such; against the truth also the catalogue (`members`), over the pool less the
    held-out set: what its estimates estimate."""
    scored = {"truth": read_table(truth, required=("id", "label")) if truth else None}
    scores = {
        key: truth_scores(predicted, table, classes, interest)
        for key, table in (scored | {"held_out": kept_out}).items()
        if table is not None
    }
    if truth:
        held = set(kept_out["id"]) if kept_out is not None else set()
        pool = predicted.loc[~predicted["id"].isin(held), "id"]
        scores["truth"]["catalogue"] = catalogue_truth(members, scored["truth"], pool, interest)
    return scores


def earlier_samples(previous: str | Path | None) -> list[dict[str, float]]:
    """The estimates of the pool's objects of interest made so far, from the previous
    iteration's report (none before the first)."""
    if previous is None:
        return []
    return read_json(previous)["catalogue"]["objects_of_interest"]["samples"]


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
