#!/usr/bin/env python3
"""Label efficiency on a rare survey: does the loop find the rare class from a cold start,
and how good are its candidates after 1,000 labels? (issue 16)

    .venv/bin/python scripts/benchmark_learning.py [--survey hard|demo] [--seeds 0 1 2]

The survey is simulated and made into a pool by the workflow itself (`snakemake
--configfile config/hard.yaml`, once): 100,000 LAMOST spectra with 0.4 % Hα emitters
(equivalent widths from 1 Å, S/N log-normal around 15) and emission-line confusers; or
the demo's 8,000 spectra with 2 % strong emitters. A stratified held-out set is never
asked. Each run starts from a random cold start of 100 and asks 100 a round; the
simulated oracle answers from the truth. Every round calls the pipeline's own functions:
training with its validation split, early stopping and SMOTE, the prior-shift
calibration (alspec.learning.calibration), the batch choice
(alspec.query.batch.select_batch) with discovery's sources (alspec.query.discovery). Runs:

- default: entropy with discovery (anomaly, typical, prior) and calibrated probabilities;
- entropy: entropy alone on the model's own probabilities, as before issue 16;
- random: random sampling, calibrated probabilities;
- ceiling: the model trained once on a large random set.

Writes results/benchmarks/learning-<survey>.{json,md}, docs/label_efficiency.{md,png}
(scripts/learning_report.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from learning_report import ONCE, machine, markdown, write_docs

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLASSES = ["other", "single_peak", "double_peak"]
INTEREST = CLASSES[1:]
SURVEYS = {  # config laid over the demo's, held-out size
    "hard": (ROOT / "config" / "hard.yaml", 20_000),
    "demo": (None, 2_000),
}
RUNS = {
    "default": {
        "strategy": "entropy",
        "sources": ["anomaly", "typical", "prior"],
        "calibrate": True,
    },
    "entropy": {"strategy": "entropy", "sources": [], "calibrate": False},
    "random": {"strategy": "random", "sources": [], "calibrate": True},
    # default, each round's CNN starting from the previous round's (model.warm_start)
    "warm_start": {
        "strategy": "entropy",
        "sources": ["anomaly", "typical", "prior"],
        "calibrate": True,
        "warm_start": True,
    },
}
PRIOR = {"feature": "ew", "line": "halpha", "order": "ascending"}
ESTIMATE_SAMPLE = 40  # config query.estimate_sample's default


def build_pool(work: Path, overlay: Path | None) -> None:
    """The survey's window and features stores, made by the workflow (once)."""
    pool = work / "results" / "pool"
    if (pool / "window.zarr").exists() and (pool / "features.zarr").exists():
        return
    (work / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "config.yaml", work / "config" / "config.yaml")
    overlays = ["--configfile", str(overlay)] if overlay else []
    subprocess.run(
        [
            BIN / "snakemake",
            "--snakefile",
            ROOT / "Snakefile",
            "--directory",
            work,
            *overlays,
            "--cores",
            str(os.cpu_count()),
            "results/pool/window.zarr",
            "results/pool/features.zarr",
        ],
        check=True,
        env=os.environ | {"PATH": f"{BIN}:{os.environ['PATH']}"},
    )


def load_pool(work: Path) -> tuple[pd.Index, np.ndarray, np.ndarray, pd.DataFrame]:
    """ids, windows and true class indices of the classifiable spectra; their truth."""
    from alspec.pool.store import open_store

    window = open_store(work / "results" / "pool" / "window.zarr")
    valid = window.valid.values
    truth = pd.read_parquet(work / "results" / "survey" / "truth.parquet").set_index("id")
    ids = pd.Index([str(i) for i in window.id.values[valid]])
    y = truth.loc[ids, "label"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    return ids, window.flux.values[valid], y, truth.loc[ids]


def held_out_rows(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """A stratified random sample: the classes in the pool's proportions."""
    rng = np.random.default_rng(seed)
    share = size / len(y)
    picked = [
        rng.choice(np.flatnonzero(y == c), round(share * (y == c).sum()), replace=False)
        for c in np.unique(y)
    ]
    return np.sort(np.concatenate(picked))


EW_BINS = (0, 2, 4, 8, 16, np.inf)  # Å: where the recall is lost


def emission_f1(y_true: np.ndarray, y_pred: np.ndarray, ew: np.ndarray) -> dict:
    """Per-class and mean F1 of the emission classes, precision and recall of any
    emission, and that recall in bins of the true equivalent width `ew`."""
    from sklearn.metrics import f1_score, precision_score, recall_score

    interest = [1, 2]
    binary_true, binary_pred = np.isin(y_true, interest), np.isin(y_pred, interest)
    per_class = f1_score(y_true, y_pred, labels=interest, average=None, zero_division=0)
    bins = np.digitize(ew, EW_BINS[1:-1])
    return {
        "emission": float(per_class.mean()),
        "single_peak": float(per_class[0]),
        "double_peak": float(per_class[1]),
        "any_emission_precision": float(precision_score(binary_true, binary_pred, zero_division=0)),
        "any_emission_recall": float(recall_score(binary_true, binary_pred, zero_division=0)),
        "recall_by_ew": {
            f"{low:g}-{high:g}": float(binary_pred[binary_true & (bins == i)].mean())
            for i, (low, high) in enumerate(pairwise(EW_BINS))
            if (binary_true & (bins == i)).any()
        },
    }


class Survey:
    """The pool (minus the held-out set) and the held-out set of one survey."""

    def __init__(self, work: Path, held_out: int, seed: int):
        from alspec.pool.store import open_store

        ids, x, y, truth = load_pool(work)
        test = held_out_rows(y, held_out, seed)
        rows = np.setdiff1d(np.arange(len(y)), test)
        self.ids, self.x, self.y = ids[rows], x[rows], y[rows]
        self.test_ids, self.test_x, self.test_y = ids[test], x[test], y[test]
        self.test_ew = truth["emission_ew"].to_numpy()[test]
        self.features = open_store(work / "results" / "pool" / "features.zarr")
        self._anomaly: pd.DataFrame | None = None

    def feature_rows(self, ids: pd.Index) -> np.ndarray:
        """The features (PCA scores, line measurements) of spectra `ids`."""
        from alspec.features.matrix import feature_matrix

        if not hasattr(self, "_feature_matrix"):
            self._feature_matrix = feature_matrix(self.features)
            self._feature_ids = pd.Index([str(i) for i in self.features.id.values])
        return self._feature_matrix[self._feature_ids.get_indexer(ids)]

    def anomaly_scores(self) -> pd.DataFrame:
        """The isolation forest on the features, as `alspec detect` computes it."""
        if self._anomaly is None:
            from alspec.anomaly.detectors import detector_scores
            from alspec.features.matrix import feature_matrix, prepared

            matrix = prepared(feature_matrix(self.features))
            score = detector_scores(matrix, "isolation_forest", 0, 20, threads=-1)
            self._anomaly = pd.DataFrame(
                {"id": [str(i) for i in self.features.id.values], "score": score}
            )
        return self._anomaly


def fitting(seed: int):
    """How the pipeline fits the CNN (config model's defaults), with `seed`."""
    from alspec.config import schema as cfg
    from alspec.learning import cnn

    return cnn.Fitting.from_config(cfg.default("model") | {"seed": seed})


def train_and_predict(
    survey: Survey,
    labelled: np.ndarray,
    calibrate: bool,
    seed: int,
    architecture: str,
    warm_start: Path | None = None,
):
    """Fit the CNN on the labelled rows (from the weights saved at `warm_start` where it
    exists; the fitted model is saved there); probabilities of the pool and the held-out
    set, the balancing undone when `calibrate` (alspec.learning.calibration)."""
    from alspec.learning import cnn
    from alspec.learning.calibration import adjust

    start = time.perf_counter()
    model, report = cnn.train(
        survey.x[labelled],
        survey.y[labelled],
        len(CLASSES),
        architecture,
        fitting(seed),
        str(warm_start) if warm_start and warm_start.exists() else None,
    )
    report["seconds"] = time.perf_counter() - start
    if warm_start:
        model.save(warm_start)
    proba = cnn.pool_proba(model)
    pool, test = proba(survey.x), proba(survey.test_x)
    if calibrate:
        fitted, wanted = report["fitted_prior"], report["labelled_prior"]
        pool, test = adjust(pool, fitted, wanted), adjust(test, fitted, wanted)
    return pool, test, report


def next_batch(
    survey: Survey,
    run: dict,
    pool_p: np.ndarray,
    predictions: pd.DataFrame,
    labelled: np.ndarray,
    size: int,
    rng,
    seed: int,
) -> tuple[pd.DataFrame, dict]:
    """The batch the loop asks next from the pool's `predictions` (probabilities
    `pool_p`), by the pipeline's own batch choice, and discovery's plan."""
    from alspec.query import discovery
    from alspec.query.batch import select_batch, top_scores
    from alspec.query.strategies import scores
    from alspec.vocabulary import UNCERTAIN

    predictions = predictions.assign(score=scores(run["strategy"], pool_p, rng))
    answers = pd.DataFrame(
        {
            "id": survey.ids[labelled],
            "label": np.asarray(CLASSES, dtype=object)[survey.y[labelled]],
            "reason": survey.reasons[labelled],
        }
    )
    pick, plan = top_scores, {}
    if run["sources"]:
        plan = discovery.plan_batch(
            answers,
            exploit_reason=UNCERTAIN,
            sources=run["sources"],
            classes_of_interest=INTEREST,
            min_examples=10,
            max_share=0.8,
            batch_size=size,
        )
        counts = discovery.explored(plan, UNCERTAIN)
        sources = discovery.pool_sources(
            list(counts),
            features=survey.features,
            anomaly_scores=survey.anomaly_scores() if "anomaly" in counts else None,
            prior=PRIOR,
            labelled=set(answers["id"]),
            seed=seed,
        )
        pick = discovery.mixed_pick(counts, sources, top_scores)
    estimate = run.get("estimate_sample", ESTIMATE_SAMPLE)
    batch = select_batch(predictions, set(answers["id"]), INTEREST, size, estimate, rng, pick)
    rows = survey.ids.get_indexer(batch["id"])
    survey.reasons[rows] = batch["reason"].to_numpy()
    return batch, plan


def pool_predictions(survey: Survey, pool_p: np.ndarray) -> pd.DataFrame:
    """The pool's predictions as the predict step writes them, with INTEREST."""
    from alspec.vocabulary import INTEREST as INTEREST_PROBABILITY

    return pd.DataFrame(
        {
            "id": survey.ids,
            "predicted": np.asarray(CLASSES, dtype=object)[pool_p.argmax(1)],
            "probability": pool_p.max(1),
            INTEREST_PROBABILITY: pool_p[:, 1:].sum(1),
        }
    )


def catalogue_point(
    survey: Survey,
    predictions: pd.DataFrame,
    labelled: np.ndarray,
    batch: pd.DataFrame,
    earlier: list,
) -> dict:
    """The catalogue once `batch` is answered: its true precision, completeness and F1
    (the simulated truth) beside the pipeline's estimates from the batch's estimate
    sample and the `earlier` ones (alspec.evaluation.estimates), and whether each truth
    lies in its interval."""
    from alspec.evaluation.estimates import catalogue_quality
    from alspec.evaluation.metrics import catalogue_truth
    from alspec.query.batch import candidates

    names = np.asarray(CLASSES, dtype=object)
    before = pd.DataFrame({"id": survey.ids[labelled], "label": names[survey.y[labelled]]})
    rows = survey.ids.get_indexer(batch["id"])
    answers = batch.assign(label=names[survey.y[rows]])
    members = candidates(predictions, pd.concat([before, answers]), INTEREST)
    quality = catalogue_quality(
        predictions,
        members=members,
        before=before,
        held_out=(),
        batch=batch,
        answers=answers,
        classes_of_interest=INTEREST,
        confidence=0.95,
        earlier=earlier,
    )
    earlier[:] = quality["objects_of_interest"]["samples"]
    truth = pd.DataFrame({"id": survey.ids, "label": names[survey.y]})
    true = catalogue_truth(members, truth, truth["id"], INTEREST)
    point = {
        "labels": int(labelled.sum()) + len(batch),
        "size": quality["size"],
        "truth": true,
        "sample": quality["sample"]["size"],
    }
    for name in ("precision", "completeness"):
        estimate = quality[name]
        # an interval too wide to be given is kept aside: its coverage counts too
        given = estimate["interval"] or (estimate.get("unsupported") or {}).get("interval")
        point[name] = estimate["estimate"]
        point[f"{name}_interval"] = given
        point[f"{name}_given"] = estimate["interval"] is not None
        point[f"{name}_inside"] = (
            None if given is None else bool(given[0] - 1e-9 <= true[name] <= given[1] + 1e-9)
        )
    point["next_hundred"] = quality["next_hundred"]["per_hundred"]
    return point


def learning_curve(
    survey: Survey, run: dict, rounds: int, batch: int, seed: int, architecture: str
) -> list[dict]:
    """Emission F1 on the held-out set after each round of `batch` labels."""
    rng = np.random.default_rng(seed)
    labelled = np.zeros(len(survey.y), bool)
    labelled[rng.choice(len(survey.y), batch, replace=False)] = True
    survey.reasons = np.full(len(survey.y), "cold_start", dtype=object)
    curve = []
    saved = Path(tempfile.mkdtemp()) / "model.keras" if run.get("warm_start") else None
    samples: list[dict] = []  # each round's estimate of the pool's objects of interest
    for round_ in range(rounds):
        start = time.perf_counter()
        pool_p, test_p, report = train_and_predict(
            survey, labelled, run["calibrate"], seed, architecture, warm_start=saved
        )
        point = {
            "labels": int(labelled.sum()),
            "emission_labelled": int(np.isin(survey.y[labelled], [1, 2]).sum()),
            "f1": emission_f1(survey.test_y, test_p.argmax(1), survey.test_ew),
            "epochs": report["epochs_run"],
            "train_seconds": round(report["seconds"], 1),
        }
        if round_ < rounds - 1:
            predictions = pool_predictions(survey, pool_p)
            asked, plan = next_batch(survey, run, pool_p, predictions, labelled, batch, rng, seed)
            rows = survey.ids.get_indexer(asked["id"])
            point["catalogue"] = catalogue_point(survey, predictions, labelled, asked, samples)
            picked = pd.Series(survey.reasons[rows])
            hits = pd.Series(np.isin(survey.y[rows], [1, 2]))
            point["batch"] = {
                r: [int(hits[picked == r].sum()), int((picked == r).sum())] for r in picked.unique()
            }
            if plan:
                point["discovery"] = {a: v["asked"] for a, v in plan["arms"].items()}
            labelled[rows] = True
        point["seconds"] = round(time.perf_counter() - start, 1)
        curve.append(point)
        print(f"  {point}", flush=True)
    curve[-1]["labelled_ids"] = list(survey.ids[labelled])  # the models run trains on them
    curve[-1]["completeness_bound"] = completeness_bound(survey, pool_p, labelled)
    return curve


def completeness_bound(survey: Survey, pool_p: np.ndarray, labelled: np.ndarray) -> dict:
    """The narrowest 95 % half-width any stratified sample of n unanswered spectra could
    give the completeness: strata by the model's q and by the measured Hα equivalent
    width (the information the pool has), each allocated by Neyman's rule on its TRUE
    rate of objects of interest (which no real design knows). If even this is wide, no
    estimate sample of that size can measure the completeness."""
    q = pool_p[:, 1:].sum(1)
    measured = pd.Series(
        survey.features.ew.values[:, 0], index=[str(i) for i in survey.features.id.values]
    )
    ew = measured.reindex(survey.ids).to_numpy()
    interest = np.isin(survey.y, [1, 2])
    unanswered = ~labelled & (pool_p.argmax(1) == 0)
    q_bins = np.digitize(q, [1e-4, 1e-3, 1e-2, 0.05, 0.2])
    ew_bins = np.digitize(np.nan_to_num(ew), np.nanpercentile(ew[unanswered], [1, 5, 20]))
    strata = (q_bins * 4 + ew_bins)[unanswered]
    y = interest[unanswered]
    sizes = np.bincount(strata)
    rates = np.bincount(strata, weights=y) / np.maximum(sizes, 1)
    spread = sizes * np.sqrt(rates * (1 - rates))
    total = int(interest.sum())
    completeness = float(1 - y.sum() / total)
    bound = {"objects_of_interest": total, "completeness": completeness, "missed": int(y.sum())}
    for n in (40, 400, 1_000, 10_000):
        error = spread.sum() / np.sqrt(n)  # Neyman: V = (sum N_h S_h)^2 / n
        bound[str(n)] = float(1.96 * completeness * error / total)  # delta method on A / Y
    return bound


def compare_models(survey: Survey, labelled_ids: list[str], seed: int) -> dict:
    """Emission F1 on the held-out set of each candidate model trained on the same labels
    (the default loop's at its last round), every one calibrated the pipeline's way: the
    CNNs on the window, a committee of three slim CNNs, and scikit-learn's gradient
    boosting (the reference of issue 16) on the window, the features and both; and the
    last on every pool label, the most these inputs allow."""
    from alspec.learning import cnn, scikit_learn
    from alspec.learning.calibration import adjust

    labelled = survey.ids.get_indexer(labelled_ids)
    y = survey.y[labelled]

    def trained_cnn(architecture: str, fit_seed: int) -> np.ndarray:
        model, report = cnn.train(
            survey.x[labelled], y, len(CLASSES), architecture, fitting(fit_seed)
        )
        probabilities = cnn.pool_proba(model)(survey.test_x)
        return adjust(probabilities, report["fitted_prior"], report["labelled_prior"])

    def columns(ids: pd.Index, x: np.ndarray, inputs: str) -> np.ndarray:
        parts = {"window": [x], "features": [survey.feature_rows(ids)]}
        return np.hstack(parts.get(inputs) or [x, survey.feature_rows(ids)])

    def boosting(inputs: str, rows: np.ndarray = labelled) -> np.ndarray:
        committee, report = scikit_learn.train(
            columns(survey.ids[rows], survey.x[rows], inputs),
            survey.y[rows],
            len(CLASSES),
            ["gradient_boosting"],
            "multiclass",
            "smote",
            0.2,
            5,
            seed,
            threads=os.cpu_count(),
        )
        probabilities = committee.predict_proba(columns(survey.test_ids, survey.test_x, inputs))
        return adjust(probabilities, report["fitted_prior"], report["labelled_prior"])

    candidates = {
        "CNN seed003": lambda: trained_cnn("seed003", seed),
        "CNN slim": lambda: trained_cnn("slim", seed),
        "3 slim CNNs (mean)": lambda: np.mean(
            [trained_cnn("slim", 100 * seed + k) for k in range(3)], 0
        ),
        "gradient boosting, window": lambda: boosting("window"),
        "gradient boosting, features": lambda: boosting("features"),
        "gradient boosting, window + features": lambda: boosting("both"),
        # what the data allow: the same model given the label of every pool spectrum
        "gradient boosting, window + features, every pool label": lambda: boosting(
            "both", np.arange(len(survey.y))
        ),
    }
    compared = {}
    for name, probabilities in candidates.items():
        compared[name] = emission_f1(survey.test_y, probabilities().argmax(1), survey.test_ew)
        print(f"  {name}: {compared[name]}", flush=True)
    return {"labels": len(labelled), "models": compared}


def ceiling(survey: Survey, size: int, seed: int, architecture: str) -> dict:
    """The model trained once on `size` random labels (the whole pool, if smaller)."""
    size = min(size, len(survey.y))
    rng = np.random.default_rng(seed)
    labelled = np.zeros(len(survey.y), bool)
    labelled[rng.choice(len(survey.y), size, replace=False)] = True
    _, test_p, _ = train_and_predict(survey, labelled, True, seed, architecture)
    return {
        "labels": size,
        "emission_labelled": int(np.isin(survey.y[labelled], [1, 2]).sum()),
        "f1": emission_f1(survey.test_y, test_p.argmax(1), survey.test_ew),
    }


def cached(path: Path, settings: dict, compute):
    """A result computed once per settings: a rerun adds only what is missing."""
    if path.exists():
        stored = json.loads(path.read_text())
        if stored["settings"] == settings:
            return stored["result"]
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"settings": settings, "result": result}))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survey", choices=list(SURVEYS), default="hard")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--runs",
        nargs="+",
        choices=[*RUNS, *ONCE],
        default=[*RUNS, *ONCE],
        help="models: each candidate model on the labels of default's last round",
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="rounds of --batch labels, cold start included"
    )
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--ceiling-labels", type=int, default=20_000)
    parser.add_argument("--architecture", default="slim")
    parser.add_argument(
        "--no-docs",
        action="store_true",
        help="leave docs/label_efficiency.md as it is (a comparison of a few runs)",
    )
    args = parser.parse_args()
    if "models" in args.runs and "default" not in args.runs:
        parser.error("--runs models trains on the labels the default run chose: add default")
    from alspec.learning import cnn

    cnn.use_threads(os.cpu_count())
    overlay, held_out = SURVEYS[args.survey]
    work = ROOT / "results" / "benchmarks" / f"learning-{args.survey}"
    build_pool(work, overlay)
    results: dict = {}
    for seed in args.seeds:
        survey = Survey(work, held_out, seed)
        for name in args.runs:
            settings = {
                "seed": seed,
                "rounds": args.rounds,
                "batch": args.batch,
                "architecture": args.architecture,
                "ceiling_labels": args.ceiling_labels,
            }
            path = work / "curves" / args.architecture / f"{name}-{seed}.json"
            print(f"{args.survey} {name} seed {seed}", flush=True)
            if name == "ceiling":
                compute = partial(ceiling, survey, args.ceiling_labels, seed, args.architecture)
            elif name == "models":
                chosen = results["default"][seed][-1]["labelled_ids"]
                compute = partial(compare_models, survey, chosen, seed)
            else:
                compute = partial(
                    learning_curve,
                    survey,
                    RUNS[name],
                    args.rounds,
                    args.batch,
                    seed,
                    args.architecture,
                )
            result = cached(path, settings, compute)
            results.setdefault(name, {})[seed] = result
    report = {
        "survey": args.survey,
        "machine": machine(),
        "pool": len(survey.y),
        "emission_in_pool": int(np.isin(survey.y, [1, 2]).sum()),
        "held_out": len(survey.test_y),
        "emission_held_out": int(np.isin(survey.test_y, [1, 2]).sum()),
        "architecture": args.architecture,
        "batch": args.batch,
        "results": results,
    }
    suffix = "" if args.architecture == "slim" else f"-{args.architecture}"
    # a few runs compared are kept apart from the curves docs/label_efficiency.md shows
    name = f"runs-{'-'.join(args.runs)}-" if args.no_docs else "learning-"
    out = ROOT / "results" / "benchmarks" / f"{name}{args.survey}{suffix}"
    Path(f"{out}.json").write_text(json.dumps(report, indent=2))
    table = markdown(report)
    Path(f"{out}.md").write_text(table)
    print(table)
    if not args.no_docs:
        write_docs()


if __name__ == "__main__":
    main()
