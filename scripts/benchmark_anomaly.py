#!/usr/bin/env python3
"""Seed 004 §6: relevance learning on the Table 1 curves, round by round.

    .venv/bin/python scripts/benchmark_anomaly.py [--seed 0] [--rounds 10] [--batch 10]

The curves' raw values are the features; local outlier factor (100 neighbours) scores
them. The simulated expert gives relevance 0 to class 3 (boring), 3 to class 2
(neutral), 5 to class 4 (interesting) and 0 to the inliers; each round labels the top
`batch` not yet labelled of the current ranking, retrains the relevance forest and
re-ranks the whole set. Reports RWS(N = 150) per anomaly class and the classes of the
top 150 after each round, recall against the index before and after, and the time of
each step next to seed 004 Table C.3. Writes results/benchmarks/anomaly.{json,md} and
docs/anomaly_relevance.{md,png}.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from alspec import anomaly
from alspec.curves import OUTLIER_CLASSES, simulate_curves

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmarks"
DOCS = ROOT / "docs"
RELEVANCE = {0: 0, 1: 0, 2: 3, 3: 0, 4: 5}  # seed 004 §6.2; inliers are not interesting
N = 150  # RWS(N): the number of objects of each anomaly class
TABLE_C3 = {"anomaly detection (LOF)": 199.91, "active learning (100 labels)": 4.31}


def class_scores(order: np.ndarray, labels: np.ndarray) -> dict[str, dict]:
    """RWS(N) of each anomaly class, and how many of the top N each class holds."""
    ranked = labels[order]
    return {
        str(c): {
            "rws": anomaly.rank_weighted_score(ranked == c, N),
            "in_top": int((ranked[:N] == c).sum()),
        }
        for c in OUTLIER_CLASSES
    }


def experiment(seed: int, rounds: int, batch: int, threads: int) -> dict:
    _, y, labels = simulate_curves(seed=seed)
    started = time.perf_counter()
    score = anomaly.detector_scores(y, "lof", neighbours=100, threads=threads)
    detection = time.perf_counter() - started
    order = anomaly.ranking(score)
    steps = [{"labels": 0, "seconds": 0.0, "classes": class_scores(order, labels)}]
    before = {str(c): anomaly.recall_by_index(labels[order] == c)[:1000] for c in (2, 3, 4)}
    labelled = np.empty(0, dtype=int)
    for _ in range(rounds):
        asked = order[~np.isin(order, labelled)][:batch]
        labelled = np.concatenate([labelled, asked])
        relevance = np.array([RELEVANCE[int(c)] for c in labels[labelled]], dtype=float)
        started = time.perf_counter()
        trained, _ = anomaly.rerank(y, score, labelled, relevance, seed=seed, threads=threads)
        order = anomaly.ranking(trained)
        seconds = time.perf_counter() - started
        steps.append(
            {"labels": len(labelled), "seconds": seconds, "classes": class_scores(order, labels)}
        )
        print(f"{len(labelled)} labels: " + format_round(steps[-1]), flush=True)
    after = {str(c): anomaly.recall_by_index(labels[order] == c)[:1000] for c in (2, 3, 4)}
    return {
        "seed": seed,
        "objects": len(labels),
        "features": y.shape[1],
        "detection_seconds": detection,
        "rounds": steps,
        "recall": {"before": before, "after": after},
    }


def format_round(step: dict) -> str:
    return ", ".join(
        f"class {c} RWS {s['rws']:.2f} ({s['in_top']} in top {N})"
        for c, s in step["classes"].items()
    )


def markdown(report: dict) -> str:
    last = report["rounds"][-1]
    lines = [
        "# Relevance learning on the seed 004 Table 1 curves (scripts/benchmark_anomaly.py)",
        "",
        f"{report['objects']:,} curves of {report['features']} points (raw values as "
        f"features), LOF with 100 neighbours; relevance 0 for class 3, 3 for class 2, 5 for "
        f"class 4, 0 for the inliers; the top 10 of the ranking labelled per round; seed "
        f"{report['seed']}; {report['machine']}.",
        "",
        f"| labels | RWS({N}) class 2 | class 3 | class 4 | top {N}: class 2 | class 3 | class 4 |",
        "|---|---|---|---|---|---|---|",
    ]
    for step in report["rounds"]:
        scores = step["classes"]
        rws = " | ".join(f"{scores[c]['rws']:.3f}" for c in ("2", "3", "4"))
        top = " | ".join(str(scores[c]["in_top"]) for c in ("2", "3", "4"))
        lines.append(f"| {step['labels']} | {rws} | {top} |")
    retrain = [s["seconds"] for s in report["rounds"][1:]]
    lines += [
        "",
        "| step | here, s | seed 004 Table C.3, s |",
        "|---|---|---|",
        f"| anomaly detection (LOF, 100 neighbours) | {report['detection_seconds']:.1f} | "
        f"{TABLE_C3['anomaly detection (LOF)']} |",
        f"| active learning, one retrain with {last['labels']} labels (forest, KD-tree, "
        f"re-rank) | {retrain[-1]:.2f} | {TABLE_C3['active learning (100 labels)']} |",
        f"| active learning, all {len(retrain)} rounds | {sum(retrain):.2f} | |",
        "",
        "Seed 004's times are from a laptop (i7 1.8 GHz, one core).",
    ]
    return "\n".join(lines) + "\n"


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rws_axes, recall_axes) = plt.subplots(1, 2, figsize=(10, 4))
    labels = [step["labels"] for step in report["rounds"]]
    names = {"2": "class 2 (relevance 3)", "3": "class 3 (relevance 0)", "4": "class 4 (5)"}
    for c, name in names.items():
        rws_axes.plot(labels, [s["classes"][c]["rws"] for s in report["rounds"]], "o-", label=name)
    rws_axes.set(xlabel="labels", ylabel=f"RWS(N = {N})", title="(a) as labels are added")
    rws_axes.legend()
    for when, style in (("before", "--"), ("after", "-")):
        for c, name in names.items():
            recall = report["recall"][when][c]
            recall_axes.plot(np.arange(1, len(recall) + 1), recall, style, label=f"{name}, {when}")
    recall_axes.set(xlabel="index in the ranking", ylabel="recall", title="(b) before / after")
    recall_axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="1: as seed 004 (one core)")
    args = parser.parse_args()
    report = experiment(args.seed, args.rounds, args.batch, args.threads)
    report["machine"] = f"{platform.machine()}, {args.threads} thread(s)"
    recall = report.pop("recall")
    report["recall"] = {w: {c: r.tolist() for c, r in v.items()} for w, v in recall.items()}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "anomaly.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (OUT / "anomaly.md").write_text(text)
    (DOCS / "anomaly_relevance.md").write_text(
        text + "\n![RWS per class and recall](anomaly_relevance.png)\n"
    )
    plot(report, DOCS / "anomaly_relevance.png")
    print(text)


if __name__ == "__main__":
    main()
