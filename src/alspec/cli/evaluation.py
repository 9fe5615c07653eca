"""Evaluation: performance, provenance, the ranking, the report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from alspec import config as cfg
from alspec.cli.common import (
    assignment,
    classes_option,
    command,
    held_out_option,
    interest_option,
)
from alspec.io import read_json, read_table, write_json
from alspec.metrics import summary_line


def _evaluate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--labels", type=Path, required=True, help="the oracle's answers to this batch")
    p.add_argument("--training-set", type=Path, required=True)
    p.add_argument("--predictions", type=Path, required=True)
    p.add_argument("--candidates", type=Path, required=True)
    classes_option(p)
    interest_option(p)
    p.add_argument("--truth", type=Path, help="optional truth table to score predictions against")
    held_out_option(p)
    p.add_argument("--training-report", type=Path, help="the train step's report (validation F1)")
    p.add_argument("--confidence", type=float, default=cfg.default("evaluation", "confidence"))
    p.add_argument(
        "--min-examples",
        type=int,
        default=cfg.default("query", "discovery", "min_examples"),
        help="a class of interest with fewer labels (the training set and this batch) is scarce",
    )
    p.add_argument("--out", type=Path, required=True)


@command(
    "evaluate",
    "estimate the candidates' precision; score against a truth if known",
    _evaluate_options,
)
def run_evaluate(args: argparse.Namespace) -> None:
    from alspec import metrics

    answers = read_table(args.labels, required=("id", "label", "reason", "predicted"))
    found = read_table(args.candidates)
    estimate = metrics.candidate_precision(answers, args.classes_of_interest, args.confidence)
    training_set = read_table(args.training_set, required=("id", "label"))
    labelled = pd.concat([training_set["label"], answers["label"]], ignore_index=True)
    report = {
        "iteration": args.iteration,
        "training_set_size": len(training_set),
        "candidates": len(found),
        "candidates_predicted": int((found["source"] == "predicted").sum()),
        "candidate_precision": estimate,
        "pool_sample": metrics.pool_estimate(answers, args.classes_of_interest, args.confidence),
        "batch": metrics.picks_by_reason(answers, args.classes_of_interest),
        "scarce": metrics.scarce_classes(labelled, args.classes_of_interest, args.min_examples),
    }
    if args.training_report:
        training = read_json(args.training_report)
        report["validation_f1"] = training["validation_f1"]
        if training.get("not_measurable"):
            report["not_measurable"] = training["not_measurable"]
    known = {
        key: path for key, path in (("truth", args.truth), ("held_out", args.held_out)) if path
    }
    predicted = read_table(args.predictions, required=("id", "predicted")) if known else None
    for key, path in known.items():
        report[key] = metrics.truth_scores(
            predicted,
            read_table(path, required=("id", "label")),
            args.classes,
            args.classes_of_interest,
        )
    write_json(report, args.out)
    print(summary_line(report))


def _named_path(text: str) -> tuple[str, Path]:
    name, path = assignment(text)
    return name, Path(path)


def _provenance_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--config-json", required=True, help="the resolved config, as JSON text")
    p.add_argument("--query-seed", type=int, required=True, help="the seed of this batch")
    for option, what in (("--input", "an input"), ("--product", "a product")):
        p.add_argument(
            option,
            type=_named_path,
            action="append",
            default=[],
            metavar="NAME=PATH",
            help=f"{what} of the iteration to checksum (a file or a Zarr store)",
        )
    p.add_argument("--training-report", type=Path, required=True, help="training.json")
    p.add_argument("--repository", type=Path, required=True, help="the workflow's git checkout")
    p.add_argument("--out", type=Path, required=True)


@command(
    "provenance",
    "record what an iteration was made from: config, versions, commit, seeds, checksums",
    _provenance_options,
)
def run_provenance(args: argparse.Namespace) -> None:
    from alspec import provenance

    record = provenance.record(
        args.iteration,
        cfg.resolve(json.loads(args.config_json)),
        args.query_seed,
        dict(args.input),
        dict(args.product),
        read_json(args.training_report),
        args.repository,
    )
    write_json(record, args.out)
    commit = record["git"]["commit"] or "no git checkout"
    print(
        f"provenance of iteration {args.iteration}: commit {commit},"
        f" {len(record['inputs']) + len(record['products'])} checksums, into {args.out}"
    )


def _evaluate_ranking_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--scores", type=Path, required=True, help="the detector's scores")
    p.add_argument("--ranked", type=Path, required=True, help="the re-ranked pool")
    p.add_argument("--labels", type=Path, required=True, help="the answers to this batch")
    p.add_argument("--training-set", type=Path, required=True)
    p.add_argument("--truth", type=Path, help="truth table: rank-weighted scores per class")
    p.add_argument(
        "--inliers",
        nargs="+",
        default=cfg.default("anomaly", "inliers"),
        help="the truth's classes that are no anomaly",
    )
    p.add_argument("--out", type=Path, required=True)


@command(
    "evaluate-ranking",
    "anomaly mode: relevance of the batch; RWS and recall per class before and after",
    _evaluate_ranking_options,
)
def run_evaluate_ranking(args: argparse.Namespace) -> None:
    from alspec.anomaly import class_ranking_scores
    from alspec.labels import UNSURE

    answers = read_table(args.labels, required=("id", "label"))
    given = answers.loc[answers["label"] != UNSURE, "label"].astype(int)
    report = {
        "mode": "anomaly",
        "iteration": args.iteration,
        "training_set_size": len(read_table(args.training_set)),
        "batch_relevance": {
            "mean": float(given.mean()) if len(given) else None,
            "counts": {str(k): int(v) for k, v in given.value_counts().sort_index().items()},
        },
    }
    if args.truth:
        truth = read_table(args.truth, required=("id", "label")).set_index("id")["label"]
        raw = read_table(args.scores, required=("id", "score"))
        raw = raw.sort_values("score", ascending=False, kind="stable")
        ranked = read_table(args.ranked, required=("id", "trained_score"))
        classes = sorted(set(truth) - set(args.inliers))
        report["before"] = class_ranking_scores(truth.reindex(raw["id"]).to_numpy(), classes)
        report["after"] = class_ranking_scores(truth.reindex(ranked["id"]).to_numpy(), classes)
    write_json(report, args.out)
    print(summary_line(report))


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", type=Path, nargs="?", default=Path("results"))


@command("report", "print each iteration's performance", _report_options)
def run_report(args: argparse.Namespace) -> None:
    from alspec import layout

    folders = layout.iteration_folders(args.results)
    if not folders:
        raise FileNotFoundError(f"{args.results}: no iterations/*/{layout.PERFORMANCE} yet")
    for folder in folders:
        print(summary_line(read_json(folder / layout.PERFORMANCE)))
    print(
        f"results: {args.results.resolve()}/iterations/<n>/ (predictions, query, candidates, "
        "labels, model, performance)"
    )
