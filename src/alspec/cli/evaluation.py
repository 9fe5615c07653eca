"""Evaluation: the catalogue's estimates, anomaly mode's ranking, an iteration's provenance."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from alspec.cli.common import (
    assignment,
    call_step,
    command,
    held_out_option,
    settings_options,
)
from alspec.evaluation.summary import summary_line


def _evaluate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--labels", type=Path, required=True, help="the oracle's answers to this batch")
    p.add_argument("--training-set", type=Path, required=True)
    p.add_argument("--predictions", type=Path, required=True)
    p.add_argument(
        "--query", type=Path, required=True, help="this batch, with its estimate sample's draws"
    )
    p.add_argument("--truth", type=Path, help="optional truth table to score predictions against")
    held_out_option(p)
    p.add_argument("--training-report", type=Path, help="the train step's report (validation F1)")
    p.add_argument(
        "--previous", type=Path, help="the iteration before's report: its estimates so far"
    )
    p.add_argument("--out", type=Path, required=True)
    settings_options(p, "evaluate")


@command(
    "evaluate",
    "estimate the catalogue's precision and completeness; score against a truth if known",
    _evaluate_options,
)
def run_evaluate(args: argparse.Namespace) -> None:
    from alspec.evaluation.steps import evaluate

    report = call_step(evaluate, args)
    print(summary_line(report))


def _named_path(text: str) -> tuple[str, Path]:
    name, path = assignment(text)
    return name, Path(path)


def _provenance_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--config-json", required=True, help="the resolved config, as JSON text")
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
    from alspec.evaluation.steps import provenance

    record = call_step(
        provenance,
        args,
        config=json.loads(args.config_json),
        inputs=dict(args.input),
        products=dict(args.product),
    )
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
    p.add_argument("--out", type=Path, required=True)
    settings_options(p, "evaluate-ranking")


@command(
    "evaluate-ranking",
    "anomaly mode: relevance of the batch; RWS and recall per class before and after",
    _evaluate_ranking_options,
)
def run_evaluate_ranking(args: argparse.Namespace) -> None:
    from alspec.evaluation.steps import evaluate_ranking

    report = call_step(evaluate_ranking, args)
    print(summary_line(report))
