"""Anomaly mode (seed 004): detect, rank."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from alspec import config as cfg
from alspec.anomaly import pool_features
from alspec.cli.common import (
    command,
    enum_choices,
    threads_option,
)
from alspec.io import read_table, write_json, write_table


def _anomaly_features_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--features",
        type=Path,
        required=True,
        help="the pool's features.zarr, or the pool directory to read its raw values",
    )


def _detect_options(p: argparse.ArgumentParser) -> None:
    anomaly = cfg.default("anomaly")
    _anomaly_features_option(p)
    p.add_argument(
        "--detector", choices=enum_choices("anomaly.detector"), default=anomaly["detector"]
    )
    p.add_argument("--neighbours", type=int, default=anomaly["neighbours"], help="LOF's")
    p.add_argument("--seed", type=int, default=anomaly["seed"])
    p.add_argument("--out", type=Path, required=True, help="table of id, score")
    threads_option(p)


@command("detect", "score every spectrum's anomaly from its features (0..1)", _detect_options)
def run_detect(args: argparse.Namespace) -> None:
    from alspec.anomaly import detector_scores

    ids, matrix = pool_features(args.features)
    score = detector_scores(
        matrix, args.detector, args.seed, args.neighbours, threads=args.threads or -1
    )
    write_table(pd.DataFrame({"id": ids, "score": score}), args.out)
    top = ", ".join(ids[np.argsort(-score)[:3]])
    print(f"detect: {args.detector} on {len(ids)} spectra, {matrix.shape[1]} features; top: {top}")


def _rank_options(p: argparse.ArgumentParser) -> None:
    anomaly = cfg.default("anomaly")
    relevance = anomaly["relevance"]
    _anomaly_features_option(p)
    p.add_argument("--scores", type=Path, required=True, help="the detector's scores")
    p.add_argument("--training-set", type=Path, required=True, help="relevance answers so far")
    for name in ("alpha", "epsilon1", "epsilon2"):
        p.add_argument(f"--{name}", type=float, default=relevance[name])
    p.add_argument("--maximum", type=int, default=relevance["maximum"], help="Umax")
    p.add_argument("--batch-size", type=int, default=cfg.default("query", "batch_size"))
    p.add_argument("--candidates-size", type=int, default=anomaly["candidates"])
    p.add_argument("--seed", type=int, default=anomaly["seed"])
    p.add_argument("--out", type=Path, required=True, help="the ranked pool")
    p.add_argument("--query", type=Path, required=True, help="the batch to ask")
    p.add_argument("--candidates", type=Path, required=True, help="the top of the ranking")
    p.add_argument("--report", type=Path, required=True, help="what the relevance forest saw")
    threads_option(p)


@command("rank", "re-rank the pool by anomaly and learned relevance; ask the top", _rank_options)
def run_rank(args: argparse.Namespace) -> None:
    import os

    from alspec import anomaly
    from alspec.labels import UNSURE, check
    from alspec.placement import this_job

    ids, matrix = pool_features(args.features)
    scores = read_table(args.scores, required=("id", "score")).set_index("id")["score"]
    missing = set(ids) - set(scores.index)
    if missing:
        raise ValueError(
            f"{args.scores}: no score for {len(missing)} spectra, e.g. {sorted(missing)[:3]}"
        )
    score = scores.reindex(ids).to_numpy()
    answers = read_table(args.training_set, required=("id", "label"))
    check(answers, cfg.relevance_levels(args.maximum), str(args.training_set))
    given = answers.loc[answers["label"] != UNSURE]
    rows = pd.Index(ids).get_indexer(given["id"])
    if (rows < 0).any():
        strangers = list(given["id"][rows < 0][:3])
        raise ValueError(
            f"{args.training_set}: {int((rows < 0).sum())} answers are not in the pool,"
            f" e.g. {strangers}"
        )
    relevance = given["label"].astype(float).to_numpy()
    constants = anomaly.Relevance(args.alpha, args.epsilon1, args.epsilon2, args.maximum)
    if len(rows):
        trained, predicted = anomaly.rerank(
            matrix, score, rows, relevance, constants, args.seed, args.threads or -1
        )
    else:  # nothing answered yet: the detector's ranking
        trained, predicted = score.copy(), np.full(len(ids), np.nan)
    pool = pd.DataFrame(
        {"id": ids, "score": score, "relevance": predicted, "trained_score": trained}
    )
    ranked, query, top = anomaly.ranked_outputs(
        pool, set(answers["id"]), args.batch_size, args.candidates_size
    )
    write_table(ranked, args.out)
    write_table(query, args.query)
    write_table(top, args.candidates)
    report = {
        "type": "relevance_forest",
        "labels": len(rows),
        "relevance": {
            level: int((given["label"] == level).sum()) for level in sorted(set(given["label"]))
        },
        "constants": vars(constants),
        "device": "CPU",
        "job": this_job(os.environ),
        "threads": args.threads,
    }
    write_json(report, args.report)
    print(
        f"rank: {len(ids)} spectra re-ranked from {len(rows)} relevance answers;"
        f" asking the top {len(query)} not yet answered"
    )
