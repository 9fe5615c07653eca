"""Anomaly mode (seed 004): detect, rank."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec.cli.common import (
    call_step,
    command,
    settings_options,
    threads_option,
)


def _anomaly_features_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--features",
        type=Path,
        required=True,
        help="the pool's features.zarr, or the pool directory to read its raw values",
    )


def _detect_options(p: argparse.ArgumentParser) -> None:
    _anomaly_features_option(p)
    p.add_argument("--out", type=Path, required=True, help="table of id, score")
    threads_option(p)
    settings_options(p, "detect")


@command("detect", "score every spectrum's anomaly from its features (0..1)", _detect_options)
def run_detect(args: argparse.Namespace) -> None:
    from alspec.anomaly.steps import detect

    done = call_step(detect, args)
    print(
        f"detect: {done['detector']} on {done['spectra']} spectra, {done['features']} features;"
        f" top: {', '.join(done['top'])}"
    )


def _rank_options(p: argparse.ArgumentParser) -> None:
    _anomaly_features_option(p)
    p.add_argument("--scores", type=Path, required=True, help="the detector's scores")
    p.add_argument("--training-set", type=Path, required=True, help="relevance answers so far")
    p.add_argument("--out", type=Path, required=True, help="the ranked pool")
    p.add_argument("--query", type=Path, required=True, help="the batch to ask")
    p.add_argument("--candidates", type=Path, required=True, help="the top of the ranking")
    p.add_argument("--report", type=Path, required=True, help="what the relevance forest saw")
    threads_option(p)
    settings_options(p, "rank")


@command("rank", "re-rank the pool by anomaly and learned relevance; ask the top", _rank_options)
def run_rank(args: argparse.Namespace) -> None:
    from alspec.anomaly.steps import rank

    done = call_step(rank, args)
    print(
        f"rank: {done['spectra']} spectra re-ranked from {done['labels']} relevance answers;"
        f" asking the top {done['asked']} not yet answered"
    )
