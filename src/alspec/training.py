"""What every model's training shares: a validation split, class balance, the validation
F1; and the train step (`train_iteration`), whatever the model.

The labelled set of an active-learning run is small and very unbalanced (a few Be stars
among hundreds of normal stars), so the split keeps every class in training and the
rare classes are either synthesised (SMOTE, seed 002) or weighted up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

logger = logging.getLogger(__name__)

IMBALANCE = ("smote", "class_weight", "none")


def validation_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation), stratified: `fraction` of each class, rounded down,
    held out, so a class with few examples keeps them all for training."""
    rng = np.random.default_rng(seed)
    held_out = [
        rng.permutation(members)[: int(fraction * len(members))]
        for members in (np.flatnonzero(y == c) for c in np.unique(y))
    ]
    validation = np.sort(np.concatenate([np.empty(0, int), *held_out]))
    return np.setdiff1d(np.arange(len(y)), validation), validation


@dataclass(frozen=True)
class Balanced:
    """A training set after balancing: examples, labels, per-example weights (or None),
    and what was done, in words, for the training report."""

    x: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    method: str


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Weight n / (k n_c) for each of the n_classes (0 for a class not in `y`), k the
    classes present: every class then counts as much as the others."""
    counts = np.bincount(y, minlength=n_classes)
    present = counts > 0
    weights = np.zeros(n_classes)
    weights[present] = len(y) / (present.sum() * counts[present])
    return weights


def balance(
    x: np.ndarray, y: np.ndarray, n_classes: int, method: str, neighbours: int, seed: int
) -> Balanced:
    """Balance the classes of (x, y) by `method` (IMBALANCE). SMOTE interpolates between
    a rare example and one of its `neighbours` nearest of its class, so it needs more
    than `neighbours` examples of every class: with fewer it falls back to class weights
    and says which class was short."""
    if method not in IMBALANCE:
        raise ValueError(f"unknown imbalance method {method!r}; known: {', '.join(IMBALANCE)}")
    if method == "none" or len(np.unique(y)) < 2:
        return Balanced(x, y, None, "none")
    counts = np.bincount(y, minlength=n_classes)
    if method == "smote":
        short = [c for c in np.flatnonzero(counts) if counts[c] <= neighbours]
        if not short:
            from imblearn.over_sampling import SMOTE

            resampled_x, resampled_y = SMOTE(
                k_neighbors=neighbours, random_state=seed
            ).fit_resample(x.reshape(len(x), -1), y)
            resampled_x = resampled_x.reshape(-1, *x.shape[1:]).astype(x.dtype)
            return Balanced(resampled_x, resampled_y, None, "smote")
        shortest = min(short, key=lambda c: counts[c])
        logger.warning(
            f"SMOTE needs more than {neighbours} examples of every class; class {shortest}"
            f" has {counts[shortest]}: weighting the classes instead"
        )
    return Balanced(x, y, class_weights(y, n_classes)[y], "class_weight")


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    """Mean F1 over the classes present in `y_true`; None without a validation set."""
    if len(y_true) == 0:
        return None
    return float(f1_score(y_true, y_pred, labels=np.unique(y_true), average="macro"))


def checkpoint_name(iteration: int, validation_f1: float | None, suffix: str) -> str:
    """A model's checkpoint name, with its iteration and validation F1 (seed 001)."""
    score = "none" if validation_f1 is None else f"{validation_f1:.3f}"
    return f"iteration-{iteration:03d}_val-f1-{score}{suffix}"


def unmeasured_classes(
    validation_counts: Sequence[int], classes: Sequence[str], classes_of_interest: Sequence[str]
) -> list[str]:
    """Classes of interest with no example in the validation split: a macro F1 over the
    other classes says nothing about them, so the validation F1 is not measurable yet."""
    count = dict(zip(classes, validation_counts, strict=True))
    return [c for c in classes_of_interest if count[c] == 0]


def labelled_inputs(
    learner: Any, stores: Sequence[str | Path], examples: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the labelled spectra that have inputs the `learner` reads (windows or
    feature rows) in `stores`; those without are left out, and the log says how many."""
    from alspec.pool import open_store, select

    for store in stores:
        learner.check_store(open_store(store), store)
    x, keep = learner.inputs(select(stores, list(examples["id"])))
    if not keep.all():
        logger.info(f"train: {int((~keep).sum())} labelled spectra have no usable inputs, left out")
    return x[keep], examples["target"].to_numpy()[keep]


def check_warm_start(learner: Any, wanted: bool, warm_start: Path | None, iteration: int) -> None:
    """A clear error where model.warm_start and the model to start from disagree."""
    if wanted and not learner.warm_starts:
        raise ValueError(
            f"model.warm_start: {learner.description} cannot start from a fitted model;"
            " only the CNN can"
        )
    if warm_start and not wanted:
        raise ValueError(f"{warm_start}: a model to start from, but model.warm_start is false")
    if wanted and warm_start is None and iteration > 0:
        raise ValueError(
            f"model.warm_start: iteration {iteration} starts from iteration"
            f" {iteration - 1}'s model; name it (--warm-start)"
        )


def train_iteration(
    *,
    inputs: Sequence[str | Path],
    training_set: str | Path,
    model_path: Path,
    report_path: Path,
    settings: Mapping[str, Any],
    iteration: int = 0,
    checkpoints: Path | None = None,
    warm_start: Path | None = None,
    threads: int = 0,
) -> dict[str, Any]:
    """The train step: fit config `model.type` on the answers in `training_set` (inputs
    from the `inputs` stores), save it to `model_path` (and a hard link in `checkpoints`
    named by iteration and validation F1, seed 001) and its report. Returns the report.
    With model.warm_start, the CNN starts from the weights of `warm_start`, the previous
    iteration's model (iteration 0 starts fresh); the report records its checksum."""
    from alspec.io import atomic_output, read_table, write_json
    from alspec.labels import training_examples
    from alspec.learners import learner as learner_of
    from alspec.placement import this_job
    from alspec.provenance import checksum
    from alspec.strategies import COMMITTEE

    model, classes = settings["model"], settings["classes"]
    learner = learner_of(model["type"])
    if model_path.suffix != learner.suffix:
        raise ValueError(f"{model_path}: a {learner.name} model is saved as *{learner.suffix}")
    check_warm_start(learner, model["warm_start"], warm_start, iteration)
    examples = training_examples(read_table(training_set), classes)
    x, y = labelled_inputs(learner, inputs, examples)
    device = learner.use_threads(threads)
    logger.info(f"train: {learner.name} runs on {device}")
    query = settings["query"]
    committee = query["strategy"] in COMMITTEE and learner.committee == "models"
    fitted, report = learner.fit(
        x,
        y,
        n_classes=len(classes),
        model=model,
        committee_models=query["committee"]["models"] if committee else (),
        warm_start=warm_start,
        threads=threads,
    )
    unmeasured = unmeasured_classes(
        report["validation_counts"], classes, settings["classes_of_interest"]
    )
    if unmeasured:
        report |= {"validation_f1": None, "not_measurable": unmeasured}
    with atomic_output(model_path) as tmp:
        learner.save(fitted, tmp)
    if checkpoints:
        checkpoints.mkdir(parents=True, exist_ok=True)
        checkpoint = checkpoints / checkpoint_name(
            iteration, report["validation_f1"], learner.suffix
        )
        checkpoint.unlink(missing_ok=True)
        os.link(model_path, checkpoint)  # the same bytes, no second copy
        report["checkpoint"] = checkpoint.name
    report |= {
        "classes": list(classes),
        "examples": {c: int((y == i).sum()) for i, c in enumerate(classes)},
        "validation_counts": dict(zip(classes, report["validation_counts"], strict=True)),
        "type": learner.name,
        "warm_start": {"model": str(warm_start), "checksum": checksum(warm_start)}
        if warm_start
        else None,
        "threads": threads,
        "device": device,
        "job": this_job(os.environ),
    }
    write_json(report, report_path)
    return report


def validation_f1_text(report: dict) -> str:
    """ "validation F1 0.93", or why it is not measurable yet."""
    if report.get("not_measurable"):
        return (
            f"validation F1 not measurable yet (no {', '.join(report['not_measurable'])}"
            " in the validation split)"
        )
    f1 = report.get("validation_f1")
    return "no validation F1 (no validation split)" if f1 is None else f"validation F1 {f1:.2f}"
