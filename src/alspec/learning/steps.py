"""The learning stage's steps, one per command: `train` fits the configured model on the
answers so far, `predict` classifies a part of the pool with it, `gather_predictions`
joins the parts (workflow/rules/learning.smk)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alspec.errors import ConfigError
from alspec.evaluation.provenance import checksum
from alspec.io import atomic_output, concatenate_tables, read_json, read_table, write_json
from alspec.learning.calibration import calibrated
from alspec.learning.fitting import checkpoint_name, unmeasured_classes
from alspec.learning.inference import predict_pool
from alspec.learning.learners import Learner, learner, of_file
from alspec.oracles.labels import training_examples
from alspec.pool.store import open_store, select
from alspec.query.strategies import COMMITTEE
from alspec.runtime.placement import this_job

logger = logging.getLogger(__name__)


def train(
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
    model, classes = settings["model"], settings["classes"]
    chosen = learner(model["type"])
    if model_path.suffix != chosen.suffix:
        raise ConfigError(f"{model_path}: a {chosen.name} model is saved as *{chosen.suffix}")
    check_warm_start(chosen, model["warm_start"], warm_start, iteration)
    examples = training_examples(read_table(training_set), classes)
    x, y = labelled_inputs(chosen, inputs, examples)
    device = chosen.use_threads(threads)
    logger.info(f"train: {chosen.name} runs on {device}")
    query = settings["query"]
    committee = query["strategy"] in COMMITTEE and chosen.committee == "models"
    fitted, report = chosen.fit(
        x,
        y,
        n_classes=len(classes),
        model=model,
        committee_models=query["committee"]["models"] if committee else (),
        warm_start=warm_start,
        threads=threads,
    )
    report = described(report, y, classes, settings["classes_of_interest"])
    with atomic_output(model_path) as tmp:
        chosen.save(fitted, tmp)
    if checkpoints:
        report["checkpoint"] = keep_checkpoint(
            model_path, checkpoints, iteration, report["validation_f1"]
        )
    report |= {
        "type": chosen.name,
        "warm_start": {"model": str(warm_start), "checksum": checksum(warm_start)}
        if warm_start
        else None,
        "threads": threads,
        "device": device,
        "job": this_job(os.environ),
    }
    write_json(report, report_path)
    return report


def described(
    report: dict[str, Any],
    y: np.ndarray,
    classes: Sequence[str],
    classes_of_interest: Sequence[str],
) -> dict[str, Any]:
    """A model's fitting report with the classes, the examples of each, the validation
    split's counts by class, and no validation F1 while a class of interest has no
    example in the validation split (it would say nothing about that class)."""
    unmeasured = unmeasured_classes(report["validation_counts"], classes, classes_of_interest)
    if unmeasured:
        report |= {"validation_f1": None, "not_measurable": unmeasured}
    return report | {
        "classes": list(classes),
        "examples": {c: int((y == i).sum()) for i, c in enumerate(classes)},
        "validation_counts": dict(zip(classes, report["validation_counts"], strict=True)),
    }


def keep_checkpoint(
    model_path: Path, checkpoints: Path, iteration: int, validation_f1: float | None
) -> str:
    """A hard link to the saved model in `checkpoints`, named by iteration and validation
    F1 (seed 001): the same bytes, no second copy. Returns its name."""
    checkpoints.mkdir(parents=True, exist_ok=True)
    checkpoint = checkpoints / checkpoint_name(iteration, validation_f1, model_path.suffix)
    checkpoint.unlink(missing_ok=True)
    os.link(model_path, checkpoint)
    return checkpoint.name


def labelled_inputs(
    chosen: Learner, stores: Sequence[str | Path], examples: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the labelled spectra that have inputs the `chosen` learner reads
    (windows or feature rows) in `stores`; those without are left out, and the log says
    how many."""
    for store in stores:
        chosen.check_store(open_store(store), store)
    x, keep = chosen.inputs(select(stores, list(examples["id"])))
    if not keep.all():
        logger.info(f"train: {int((~keep).sum())} labelled spectra have no usable inputs, left out")
    return x[keep], examples["target"].to_numpy()[keep]


def check_warm_start(
    chosen: Learner, wanted: bool, warm_start: Path | None, iteration: int
) -> None:
    """A clear error where model.warm_start and the model to start from disagree."""
    if wanted and not chosen.warm_starts:
        raise ConfigError(
            f"model.warm_start: {chosen.description} cannot start from a fitted model;"
            " only the CNN can"
        )
    if warm_start and not wanted:
        raise ConfigError(f"{warm_start}: a model to start from, but model.warm_start is false")
    if wanted and warm_start is None and iteration > 0:
        raise ConfigError(
            f"model.warm_start: iteration {iteration} starts from iteration"
            f" {iteration - 1}'s model; name it (--warm-start)"
        )


def predict(
    *,
    inputs: str | Path,
    model_path: Path,
    out: Path,
    settings: Mapping[str, Any],
    training_report: str | Path | None = None,
    part: int = 0,
    threads: int = 0,
) -> dict[str, Any]:
    """The predict step: classify part `part` of `model.predict_jobs` of the pool's
    `inputs` store with the saved model, `model.predict_block_size` spectra at a time,
    its probabilities calibrated (model.calibration, with the train step's report); a
    committee strategy of a CNN gets its `query.committee.members` dropout passes; a CNN
    computes in `model.precision`. Returns what was done, for the summary."""
    model, classes = settings["model"], settings["classes"]
    saved = of_file(model_path)
    device = saved.use_threads(threads)
    committee = settings["query"]["strategy"] in COMMITTEE and saved.committee == "dropout"
    members = settings["query"]["committee"]["members"] if committee else 0
    proba = saved.probabilities(
        saved.load(model_path, classes),
        members=members,
        seed=model["seed"],
        precision=model["precision"],
    )
    report = read_json(training_report) if training_report else None
    proba = calibrated(proba, model["calibration"], report)
    parts = model["predict_jobs"]
    n = predict_pool(proba, inputs, classes, out, model["predict_block_size"], part, parts, saved)
    return {"spectra": n, "part": part, "parts": parts, "device": device}


def gather_predictions(*, parts: Sequence[str | Path], out: Path) -> int:
    """The gather-predictions step: the parts' prediction tables, in order, as one.
    Returns the number of spectra."""
    return concatenate_tables(parts, out)
