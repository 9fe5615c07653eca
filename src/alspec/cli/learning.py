"""Learning: train the model, classify the pool, gather the predictions."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec.cli.common import call_step, command, settings_options, threads_option
from alspec.evaluation.summary import validation_f1_text


def _train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--inputs",
        type=Path,
        nargs="+",
        required=True,
        help="the CNN: window stores (the pool's, and an external labelled set's from alspec"
        " transfer); a scikit-learn model: the pool's features store",
    )
    p.add_argument("--training-set", type=Path, required=True)
    p.add_argument("--iteration", type=int, default=0, help="names the checkpoint")
    p.add_argument(
        "--model", dest="model_path", type=Path, required=True, help="where to save the model"
    )
    p.add_argument(
        "--checkpoints",
        type=Path,
        help="also keep the model here as iteration-<n>_val-f1-<F1> (seed 001)",
    )
    p.add_argument(
        "--report", dest="report_path", type=Path, required=True, help="training report (JSON)"
    )
    p.add_argument(
        "--warm-start",
        type=Path,
        help="with model.warm_start: the previous iteration's model, to start from",
    )
    threads_option(p)
    settings_options(p, "train")


@command("train", "train the model (the CNN, or scikit-learn models) on the labels", _train_options)
def run_train(args: argparse.Namespace) -> None:
    from alspec.learning.steps import train

    report = call_step(train, args)
    print(
        f"train: {report['type']} on {sum(report['examples'].values())} labels"
        f" ({report['balance']}) on {report['device']}, {validation_f1_text(report)}"
    )


def _predict_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--inputs",
        type=Path,
        required=True,
        help="the pool's window store (the CNN) or features store (scikit-learn models)",
    )
    p.add_argument(
        "--model", dest="model_path", type=Path, required=True, help="model.keras or model.joblib"
    )
    p.add_argument(
        "--training-report", type=Path, help="the train step's report: the class fractions"
    )
    p.add_argument("--part", type=int, default=0, help="which part of the pool (0-based)")
    p.add_argument("--out", type=Path, required=True)
    threads_option(p)
    settings_options(p, "predict")


@command(
    "predict", "classify every spectrum of the pool: probabilities and entropy", _predict_options
)
def run_predict(args: argparse.Namespace) -> None:
    from alspec.learning.steps import predict

    done = call_step(predict, args)
    print(
        f"predicted {done['spectra']} spectra (part {args.part + 1} of {done['parts']})"
        f" on {done['device']} into {args.out}"
    )


def _gather_predictions_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("parts", nargs="+", type=Path, help="the parts' prediction tables, in order")
    p.add_argument("--out", type=Path, required=True)


@command(
    "gather-predictions",
    "join the parts of the pool's predictions into one table",
    _gather_predictions_options,
)
def run_gather_predictions(args: argparse.Namespace) -> None:
    from alspec.learning.steps import gather_predictions

    n = call_step(gather_predictions, args)
    print(f"predictions: {n} spectra from {len(args.parts)} part(s) into {args.out}")
