#!/usr/bin/env python3
"""Seed 004 §6: relevance learning on the Table 1 curves, round by round.

    .venv/bin/python scripts/benchmark_anomaly.py [--seeds 0 1 2] [--rounds 10] [--batch 10]

The curves' raw values are the features; local outlier factor (100 neighbours) scores
them. The simulated expert labels the top `batch` not yet labelled of the current
ranking with the relevance of its class (inliers 0); the relevance forest is retrained
and the whole set re-ranked, round after round. Two relevance maps:

- "seed 004": class 3 boring (0), class 2 neutral (3), class 4 interesting (5), §6.2;
- "boring ranked high": the same, but the boring class is class 2, the class LOF does rank
  high on Table 1 as printed (class 3 ranks behind classes 4 and 2, so it is never asked
  and its RWS has nothing to fall from; the report gives each class's median index).

Reports RWS(N = 150) per anomaly class and the classes of the top 150 after each round,
recall against the index before and after, and the time of each step next to seed 004
Table C.3. Writes results/benchmarks/anomaly.{json,md} and docs/anomaly_relevance.{md,png}.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import dask.array as da
import numpy as np

from alspec.anomaly.detectors import detector_scores
from alspec.anomaly.relevance import Relevance, ranking, rerank
from alspec.config import schema as cfg
from alspec.evaluation.ranking import class_ranking_scores, recall_by_index
from alspec.features.embedding import embed
from alspec.survey.synthetic_curves import OUTLIER_CLASSES, simulate_curves

ROOT = Path(__file__).resolve().parents[1]
SEED_004 = Relevance.from_config(cfg.default("anomaly", "relevance"))  # eq. 1-3's constants
OUT = ROOT / "results" / "benchmarks"
DOCS = ROOT / "docs"
SCENARIOS = {  # relevance of each anomaly class; the inliers (0, 1) are not interesting
    "seed 004": {2: 3, 3: 0, 4: 5},
    "boring ranked high": {2: 0, 3: 3, 4: 5},
}
N = 150  # RWS(N): the number of objects of each anomaly class
RECALL_DEPTH = 1000  # recall is kept for the first RECALL_DEPTH of the ranking
TABLE_C3 = {"anomaly detection (LOF)": 199.91, "active learning (100 labels)": 4.31, "t-SNE": 40.61}
TSNE_SUBSET = 2000  # seed 004 Table C.3 maps a subset of 2,000 objects


def class_scores(order: np.ndarray, labels: np.ndarray) -> dict[str, dict]:
    """RWS(N) of each anomaly class (N its size, 150), and how many of the top N it holds."""
    scores = class_ranking_scores(labels[order], list(OUTLIER_CLASSES))
    return {
        str(c): {"rws": s["rws"], "in_top": round(s["recall"] * s["n"])} for c, s in scores.items()
    }


def recall(order: np.ndarray, labels: np.ndarray) -> dict[str, list[float]]:
    return {
        str(c): recall_by_index(labels[order] == c)[:RECALL_DEPTH].tolist() for c in OUTLIER_CLASSES
    }


def median_index(order: np.ndarray, labels: np.ndarray) -> dict[str, int]:
    """Where each anomaly class sits in a ranking: the median of its members' indices."""
    index = np.empty(len(order), dtype=int)
    index[order] = np.arange(len(order))
    return {str(c): int(np.median(index[labels == c])) for c in OUTLIER_CLASSES}


def learning(
    features: np.ndarray,
    labels: np.ndarray,
    score: np.ndarray,
    relevance_of: dict[int, int],
    rounds: int,
    batch: int,
    seed: int,
    threads: int,
) -> dict:
    """Label the top `batch` not yet labelled, retrain, re-rank; `rounds` times."""
    relevance_by_class = np.zeros(labels.max() + 1)
    for c, u in relevance_of.items():
        relevance_by_class[c] = u
    order = ranking(score)
    steps = [{"labels": 0, "seconds": 0.0, "classes": class_scores(order, labels)}]
    before = recall(order, labels)
    labelled = np.empty(0, dtype=int)
    for _ in range(rounds):
        asked = order[~np.isin(order, labelled)][:batch]
        labelled = np.concatenate([labelled, asked])
        started = time.perf_counter()
        trained, _ = rerank(
            features,
            score,
            labelled,
            relevance_by_class[labels[labelled]],
            SEED_004,
            seed=seed,
            threads=threads,
        )
        order = ranking(trained)
        seconds = time.perf_counter() - started
        steps.append(
            {"labels": len(labelled), "seconds": seconds, "classes": class_scores(order, labels)}
        )
        print(f"  {len(labelled)} labels: " + format_round(steps[-1]), flush=True)
    return {
        "relevance": {str(c): u for c, u in relevance_of.items()},
        "asked": {str(c): int((labels[labelled] == c).sum()) for c in range(labels.max() + 1)},
        "rounds": steps,
        "recall": {"before": before, "after": recall(order, labels)},
    }


def experiment(seed: int, rounds: int, batch: int, threads: int) -> dict:
    _, curves, labels = simulate_curves(seed=seed)
    started = time.perf_counter()
    score = detector_scores(curves, "lof", seed=0, neighbours=100, threads=threads)
    detection = time.perf_counter() - started
    print(f"seed {seed}: LOF {detection:.1f} s", flush=True)
    subset = np.random.default_rng(seed).choice(len(curves), TSNE_SUBSET, replace=False)
    started = time.perf_counter()
    embed(da.from_array(curves[subset]), "tsne", TSNE_SUBSET, seed).compute()
    mapping = time.perf_counter() - started
    scenarios = {}
    for name, relevance_of in SCENARIOS.items():
        print(f" {name}: relevance {relevance_of}", flush=True)
        scenarios[name] = learning(
            curves, labels, score, relevance_of, rounds, batch, seed, threads
        )
    return {
        "seed": seed,
        "objects": len(labels),
        "features": curves.shape[1],
        "detection_seconds": detection,
        "tsne_seconds": mapping,
        "median_index_by_lof": median_index(ranking(score), labels),
        "scenarios": scenarios,
    }


def format_round(step: dict) -> str:
    return ", ".join(
        f"class {c} RWS {s['rws']:.2f} ({s['in_top']} in top {N})"
        for c, s in step["classes"].items()
    )


def relevance_text(relevance: dict[str, int]) -> str:
    return ", ".join(f"class {c}: {u}" for c, u in relevance.items())


def rounds_table(scenario: dict) -> list[str]:
    lines = [
        f"| labels | RWS({N}) class 2 | class 3 | class 4 | top {N}: class 2 | class 3 | class 4 |",
        "|---|---|---|---|---|---|---|",
    ]
    for step in scenario["rounds"]:
        scores = step["classes"]
        rws = " | ".join(f"{scores[c]['rws']:.3f}" for c in ("2", "3", "4"))
        top = " | ".join(str(scores[c]["in_top"]) for c in ("2", "3", "4"))
        lines.append(f"| {step['labels']} | {rws} | {top} |")
    return lines


def seeds_table(reports: list[dict]) -> list[str]:
    lines = [
        f"| seed | relevance map | RWS({N}) class 2 | class 3 | class 4 | class 4 in top {N} "
        "| median index by LOF, class 2 / 3 / 4 |",
        "|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        index = " / ".join(str(report["median_index_by_lof"][c]) for c in ("2", "3", "4"))
        for name, scenario in report["scenarios"].items():
            first, last = scenario["rounds"][0]["classes"], scenario["rounds"][-1]["classes"]
            change = " | ".join(
                f"{first[c]['rws']:.2f} → {last[c]['rws']:.2f}" for c in ("2", "3", "4")
            )
            lines.append(
                f"| {report['seed']} | {name} | {change} | {first['4']['in_top']} → "
                f"{last['4']['in_top']} | {index} |"
            )
    return lines


def markdown(reports: list[dict], machine: str) -> str:
    report = reports[0]
    lines = [
        "# Relevance learning on the seed 004 Table 1 curves (scripts/benchmark_anomaly.py)",
        "",
        f"{report['objects']:,} curves of {report['features']} points (raw values as "
        f"features), LOF with 100 neighbours; the inliers have relevance 0; the top 10 of "
        f"the ranking are labelled per round; {machine}.",
        "",
        "## Before and after 100 labels, per seed",
        "",
        *seeds_table(reports),
        "",
        "On Table 1 as printed, LOF ranks class 4 first, class 2 second and class 3 third",
        "(median index above): seed 004 found class 3 at the top, and its Figure 8 shows",
        "class 3 falling once labelled boring. Here class 3 is never among the top 10 asked,",
        "so with relevance 0 it has nothing to fall from; giving relevance 0 to class 2,",
        "the class LOF does rank high, shows the fall of a boring class.",
    ]
    for name, scenario in report["scenarios"].items():
        asked = ", ".join(f"class {c}: {k}" for c, k in scenario["asked"].items() if k)
        lines += [
            "",
            f"## Round by round, seed {report['seed']}, {name} "
            f"({relevance_text(scenario['relevance'])})",
            "",
            f"Asked in 100 labels: {asked}.",
            "",
            *rounds_table(scenario),
        ]
    retrain = [s["seconds"] for s in report["scenarios"]["seed 004"]["rounds"][1:]]
    lines += [
        "",
        "## Time of each step",
        "",
        "| step | here, s | seed 004 Table C.3, s |",
        "|---|---|---|",
        "| feature extraction (raw values) | none | none |",
        f"| anomaly detection (LOF, 100 neighbours) | {report['detection_seconds']:.1f} | "
        f"{TABLE_C3['anomaly detection (LOF)']} |",
        f"| active learning, one retrain with 100 labels (forest, KD-tree, re-rank) | "
        f"{retrain[-1]:.2f} | {TABLE_C3['active learning (100 labels)']} |",
        f"| active learning, all {len(retrain)} rounds | {sum(retrain):.2f} | |",
        f"| visualisation (t-SNE of {TSNE_SUBSET:,} curves) | {report['tsne_seconds']:.1f} | "
        f"{TABLE_C3['t-SNE']} |",
        "",
        f"Seed {report['seed']}'s run. Seed 004's times are from a laptop (i7 1.8 GHz, one core).",
    ]
    return "\n".join(lines) + "\n"


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = report["scenarios"]
    figure, axes = plt.subplots(len(scenarios), 2, figsize=(10, 4 * len(scenarios)))
    for (name, scenario), (rws_axes, recall_axes) in zip(scenarios.items(), axes, strict=True):
        names = {c: f"class {c} (relevance {u})" for c, u in scenario["relevance"].items()}
        labels = [step["labels"] for step in scenario["rounds"]]
        for colour, (c, label) in enumerate(names.items()):
            rws = [step["classes"][c]["rws"] for step in scenario["rounds"]]
            rws_axes.plot(labels, rws, "o-", color=f"C{colour}", label=label)
        rws_axes.set(xlabel="labels", ylabel=f"RWS(N = {N})", title=f"{name}: as labels are added")
        rws_axes.legend()
        for when, style in (("before", "--"), ("after", "-")):
            for colour, (c, label) in enumerate(names.items()):
                values = scenario["recall"][when][c]
                index = np.arange(1, len(values) + 1)
                recall_axes.plot(index, values, style, color=f"C{colour}", label=f"{label}, {when}")
        recall_axes.set(
            xlabel="index in the ranking",
            ylabel="recall",
            title=f"{name}: before / after 100 labels",
        )
        recall_axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="1: as seed 004 (one core)")
    args = parser.parse_args()
    reports = [experiment(seed, args.rounds, args.batch, args.threads) for seed in args.seeds]
    machine = f"{platform.machine()}, {args.threads} thread(s)"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "anomaly.json").write_text(
        json.dumps({"machine": machine, "seeds": reports}, indent=2) + "\n"
    )
    text = markdown(reports, machine)
    (OUT / "anomaly.md").write_text(text)
    (DOCS / "anomaly_relevance.md").write_text(
        text + "\n![RWS per class and recall, both relevance maps](anomaly_relevance.png)\n"
    )
    plot(reports[0], DOCS / "anomaly_relevance.png")
    print(text)


if __name__ == "__main__":
    main()
