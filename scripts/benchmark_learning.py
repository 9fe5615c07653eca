#!/usr/bin/env python3
"""Label efficiency: how many labels each query strategy needs before the emission-line
stars are found reliably, against random sampling (issue 5).

    .venv/bin/python scripts/benchmark_learning.py [--labels 1500] [--batch 100]

The survey is simulated and made into a pool by the workflow itself (`snakemake
results/pool/window.zarr`: 100,000 LAMOST spectra, 1 % with Hα emission). A stratified
held-out set of 5,000 spectra is never asked; the rest is the pool. Every strategy starts
from the same random cold-start batch and the simulated oracle answers from the truth;
each round trains the CNN (slim, the pipeline's training: validation split, early
stopping, SMOTE or class weights), classifies the pool, scores the held-out set and asks
the next batch. Committee strategies use Monte-Carlo-dropout passes. Writes
results/benchmarks/learning.{json,md}, docs/label_efficiency.{md,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORK = ROOT / "results" / "benchmarks" / "learning"
CLASSES = ["other", "single_peak", "double_peak"]
INTEREST = CLASSES[1:]
SURVEY = {
    "simulate": {
        "n_spectra": 100_000,
        "seed": 5,
        "rates": {"single_peak": 0.006, "double_peak": 0.004},
    },
    "pool": {"shard_size": 20_000},
}
STRATEGIES = [
    ("random", False),
    ("entropy", False),
    ("least_confidence", False),
    ("smallest_margin", False),
    ("entropy", True),
    ("vote_entropy", False),
    ("kl_divergence", False),
    ("bald", False),
]


def build_pool() -> Path:
    """The simulated survey's window store, made by the workflow (once)."""
    window = WORK / "results" / "pool" / "window.zarr"
    if not window.exists():
        (WORK / "config").mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "config" / "config.yaml", WORK / "config" / "config.yaml")
        (WORK / "survey.yaml").write_text(yaml.safe_dump(SURVEY))
        subprocess.run(
            [
                BIN / "snakemake",
                "--snakefile",
                ROOT / "Snakefile",
                "--directory",
                WORK,
                "--configfile",
                WORK / "survey.yaml",
                "--cores",
                str(os.cpu_count()),
                "results/pool/window.zarr",
            ],
            check=True,
            env=os.environ | {"PATH": f"{BIN}:{os.environ['PATH']}"},
        )
    return window


def load_pool(window_store: Path) -> tuple[np.ndarray, np.ndarray]:
    """Windows (n, points) of the classifiable spectra and their true class indices."""
    from alspec.pool import open_store

    window = open_store(window_store)
    valid = window.valid.values
    truth = pd.read_parquet(WORK / "results" / "survey" / "truth.parquet").set_index("id")
    ids = window.id.values[valid].astype(object)
    y = truth.loc[ids, "label"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    return window.flux.values[valid], y


def held_out_rows(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """A stratified random sample: the classes in the pool's proportions."""
    rng = np.random.default_rng(seed)
    share = size / len(y)
    return np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(y == c), round(share * (y == c).sum()), replace=False)
                for c in np.unique(y)
            ]
        )
    )


def emission_f1(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score

    per_class = f1_score(y_true, y_pred, labels=[1, 2], average=None, zero_division=0)
    return {
        "single_peak": float(per_class[0]),
        "double_peak": float(per_class[1]),
        "emission": float(per_class.mean()),
    }


def ask(
    name: str, diverse: bool, model, x: np.ndarray, size: int, rng: np.random.Generator, seed: int
) -> np.ndarray:
    """Rows of `x` (the unlabelled pool) the strategy asks next."""
    from alspec import models, strategies

    if name in strategies.COMMITTEE:
        scores = strategies.COMMITTEE[name](models.mc_dropout_proba(model, x, 20, seed))
    else:
        scores = strategies.scores(name, models.predict_proba(model, x, batch_size=8192), rng)
    if diverse:
        return strategies.diverse(scores, x, size, shortlist=10, seed=seed)
    return np.argsort(-scores, kind="stable")[:size]


def learning_curve(
    name: str,
    diverse: bool,
    pool: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    first: np.ndarray,
    schedule: list[int],
    seed: int,
) -> list[dict]:
    """Emission F1 on the held-out set after training on each number of labels in
    `schedule`, the labels between two of them asked by the strategy."""
    from alspec import models

    x, y = pool
    labelled = np.zeros(len(y), bool)
    labelled[first] = True
    rng = np.random.default_rng(seed)
    curve = []
    for size, following in zip(schedule, [*schedule[1:], None], strict=True):
        start = time.perf_counter()
        model, report = models.train(x[labelled], y[labelled], 3, "slim", models.Fitting(seed=seed))
        predicted = models.predict_proba(model, test[0], batch_size=8192).argmax(1)
        point = {
            "labels": size,
            "emission_labelled": int((y[labelled] > 0).sum()),
            "f1": emission_f1(test[1], predicted),
            "epochs": report["epochs_run"],
        }
        if following:
            unlabelled = np.flatnonzero(~labelled)
            asked = ask(name, diverse, model, x[unlabelled], following - size, rng, seed)
            labelled[unlabelled[asked]] = True
        point["seconds"] = round(time.perf_counter() - start, 1)
        curve.append(point)
        print(f"{name}{' diverse' if diverse else ''}: {point}", flush=True)
    return curve


def cached_curve(key: str, settings: dict, compute) -> list[dict]:
    """A curve computed once per settings: a rerun of the benchmark only adds what is
    missing (each curve takes minutes)."""
    path = WORK / "curves" / f"{key.replace(' + ', '_')}.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if stored["settings"] == settings:
            return stored["curve"]
    curve = compute()
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"settings": settings, "curve": curve}))
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1200, help="labels at the end")
    parser.add_argument("--batch", type=int, default=100, help="labels per round (and cold start)")
    parser.add_argument(
        "--random-labels",
        type=int,
        default=4500,
        help="random sampling goes on to this many labels, in rounds of --random-batch",
    )
    parser.add_argument("--random-batch", type=int, default=300)
    parser.add_argument("--held-out", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from alspec import models

    models.use_threads(os.cpu_count())
    x, y = load_pool(build_pool())
    test_rows = held_out_rows(y, args.held_out, args.seed)
    pool_rows = np.setdiff1d(np.arange(len(y)), test_rows)
    pool, test = (x[pool_rows], y[pool_rows]), (x[test_rows], y[test_rows])
    first = np.random.default_rng(args.seed).choice(len(pool_rows), args.batch, replace=False)
    schedule = list(range(args.batch, args.labels + 1, args.batch))
    curves = {}
    for name, diverse in STRATEGIES:
        key = f"{name} + diversity" if diverse else name
        steps = schedule
        if name == "random":
            more = range(args.labels + args.random_batch, args.random_labels + 1, args.random_batch)
            steps = [*schedule, *more]
        settings = {"schedule": steps, "held_out": args.held_out, "seed": args.seed}
        compute = partial(learning_curve, name, diverse, pool, test, first, steps, args.seed)
        curves[key] = cached_curve(key, settings, compute)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "pool": len(pool_rows),
        "emission_in_pool": int((pool[1] > 0).sum()),
        "held_out": len(test_rows),
        "emission_held_out": int((test[1] > 0).sum()),
        "batch": args.batch,
        "model": "slim",
        "curves": curves,
    }
    (WORK.parent / "learning.json").write_text(json.dumps(report, indent=2))
    table = markdown(report)
    (WORK.parent / "learning.md").write_text(table)
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "label_efficiency.md").write_text(table)
    plot(report, ROOT / "docs" / "label_efficiency.png")
    print(table)


def labels_to_reach(curve: list[dict], f1: float) -> int | None:
    """The fewest labels at which the curve's emission F1 reaches `f1`."""
    return next((p["labels"] for p in curve if p["f1"]["emission"] >= f1), None)


def markdown(report: dict) -> str:
    curves = report["curves"]
    final = curves["random"][-1]
    target = final["f1"]["emission"]
    sizes = sorted({p["labels"] for curve in curves.values() for p in curve})

    def row(key: str, value) -> str:
        by_size = {p["labels"]: value(p) for p in curves[key]}
        return " | ".join(by_size.get(n, "") for n in sizes)

    lines = [
        "# Label efficiency (scripts/benchmark_learning.py)",
        "",
        f"Pool {report['pool']:,} simulated LAMOST spectra"
        f" ({report['emission_in_pool']} with Hα emission),"
        f" held-out set {report['held_out']:,} ({report['emission_held_out']} with emission);"
        f" {report['model']} CNN retrained every {report['batch']} labels from the same random"
        f" cold start (random sampling goes on further, in larger rounds). Emission F1: the"
        f" mean F1 of single_peak and double_peak on the held-out set. {report['machine']}.",
        "",
        "| strategy | "
        + " | ".join(f"{n:,}" for n in sizes)
        + f" | labels to reach random's F1 at {final['labels']:,} ({target:.2f}) |",
        "|---|" + "---|" * (len(sizes) + 1),
    ]
    for key, curve in curves.items():
        reach = labels_to_reach(curve, target)
        share = f"{reach:,} ({reach / final['labels']:.0%})" if reach else "not reached"
        f1 = row(key, lambda p: f"{p['f1']['emission']:.2f}")
        lines.append(f"| {key} | {f1} | {share} |")
    lines += ["", "Emission-line stars among the labels:", ""]
    lines.append("| strategy | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    lines.append("|---|" + "---|" * len(sizes))
    for key in curves:
        lines.append(f"| {key} | {row(key, lambda p: str(p['emission_labelled']))} |")
    lines += [
        "",
        "One seed per curve, so single points are noisy. The committee is 20 Monte-Carlo"
        " dropout masks of the CNN. kl_divergence and bald rank the pool identically: the"
        " mean Kullback-Leibler divergence of the members from their consensus is the mutual"
        " information BALD measures; both look for disagreement, which a small dropout"
        " committee shows little of until it has seen some emission.",
    ]
    return "\n".join(lines) + "\n"


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for key, curve in report["curves"].items():
        style = {"color": "black", "linewidth": 2.5} if key == "random" else {}
        axes.plot(
            [p["labels"] for p in curve],
            [p["f1"]["emission"] for p in curve],
            marker="o",
            label=key,
            **style,
        )
    axes.set_xlabel("labels")
    axes.set_ylabel("emission F1 on the held-out set")
    axes.set_title(f"Label efficiency, {report['pool']:,} spectra, 1 % emission")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=120)


if __name__ == "__main__":
    main()
