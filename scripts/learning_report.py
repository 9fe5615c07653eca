"""The learning benchmark's report (scripts/benchmark_learning.py): its Markdown tables
(learning curves, labels found, training seconds, models compared), the figure, and
docs/label_efficiency.{md,png}."""

from __future__ import annotations

import json
import os
import platform
from itertools import pairwise
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ONCE = ("ceiling", "models")  # one training per seed, not a learning curve


def write_docs() -> None:
    """docs/label_efficiency.{md,png} from every survey measured so far (the slim CNN's
    runs, and another architecture's where there are any)."""
    measured = sorted((ROOT / "results" / "benchmarks").glob("learning-*.json"))
    reports = [json.loads(path.read_text()) for path in measured]
    curves = [r for r in reports if r["architecture"] == "slim"]
    text = [
        "# Label efficiency (scripts/benchmark_learning.py)",
        "",
        "From a random cold start of 100 labels and no external set, 100 labels a round;"
        " `default` is entropy with discovery and calibrated probabilities, `entropy` as"
        " before issue 16 (no discovery, the model's own probabilities), `random` random"
        " sampling, `ceiling` the model trained once on a large random set.",
        "",
        "![emission F1 against the number of labels](label_efficiency.png)",
        "",
    ]
    text += [markdown(report) for report in reports]
    (ROOT / "docs" / "label_efficiency.md").write_text("\n".join(text))
    plot(curves, ROOT / "docs" / "label_efficiency.png")


def plot(reports: list[dict], out: Path) -> None:
    """Emission F1 against labels, one panel per survey: each run's mean over seeds,
    the band its spread (min to max), the ceiling as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, len(reports), figsize=(6 * len(reports), 4.5), squeeze=False)
    for axes, report in zip(panels[0], reports, strict=True):
        for name, runs in report["results"].items():
            if name == "models":
                continue
            if name == "ceiling":
                f1 = np.mean([r["f1"]["emission"] for r in runs.values()])
                axes.axhline(f1, color="black", linestyle="--", label=f"ceiling ({f1:.2f})")
                continue
            labels = [p["labels"] for p in next(iter(runs.values()))]
            f1 = np.array([[p["f1"]["emission"] for p in curve] for curve in runs.values()])
            (line,) = axes.plot(labels, f1.mean(axis=0), marker="o", label=name)
            axes.fill_between(
                labels, f1.min(axis=0), f1.max(axis=0), alpha=0.2, color=line.get_color()
            )
        axes.set_xlabel("labels")
        axes.set_ylabel("emission F1 on the held-out set")
        axes.set_ylim(0, 1)
        seeds = len(next(iter(report["results"].values())))
        axes.set_title(
            f"{report['survey']} survey: {report['pool']:,} spectra,"
            f" {report['emission_in_pool']} emitters ({seeds} seeds)"
        )
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(out, dpi=110)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return f"{model}, {os.cpu_count()} cores"


def markdown(report: dict) -> str:
    """The learning curves: mean ± spread over seeds, and each seed's figures."""
    results = report["results"]
    curves = {name: runs for name, runs in results.items() if name not in ONCE}
    seeds = next(iter(curves.values()))
    sizes = sorted(
        {p["labels"] for runs in curves.values() for curve in runs.values() for p in curve}
    )
    lines = [
        f"## {report['survey']} survey, {report['architecture']} CNN",
        "",
        f"Pool {report['pool']:,} spectra ({report['emission_in_pool']} with Hα emission),"
        f" held-out set {report['held_out']:,} ({report['emission_held_out']} with emission);"
        f" {report['architecture']} CNN, random cold start of {report['batch']}, {report['batch']}"
        f" labels a round. Emission F1: mean F1 of single_peak and double_peak on the held-out"
        f" set, mean ± standard deviation over seeds {', '.join(map(str, seeds))}."
        f" {report['machine']}.",
        "",
        "| run | " + " | ".join(f"{n:,}" for n in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]

    def row(runs: dict, value) -> str:
        cells = []
        for n in sizes:
            values = [value(p) for curve in runs.values() for p in curve if p["labels"] == n]
            cells.append(f"{np.mean(values):.2f} ± {np.std(values):.2f}" if values else "")
        return " | ".join(cells)

    for name, runs in curves.items():
        lines.append(f"| {name} | {row(runs, lambda p: p['f1']['emission'])} |")
    if "ceiling" in results:
        f1 = [r["f1"]["emission"] for r in results["ceiling"].values()]
        labels = next(iter(results["ceiling"].values()))["labels"]
        lines.append(
            f"| ceiling ({labels:,} random labels) | {np.mean(f1):.2f} ± {np.std(f1):.2f} |"
            + " |" * (len(sizes) - 1)
        )
    lines += [
        "",
        "Emitters among the labels (mean over seeds):",
        "",
        "| run | " + " | ".join(f"{n:,}" for n in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name, runs in curves.items():
        cells = []
        for n in sizes:
            values = [
                p["emission_labelled"] for curve in runs.values() for p in curve if p["labels"] == n
            ]
            cells.append(f"{np.mean(values):.0f}" if values else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    timed = {
        name: runs
        for name, runs in curves.items()
        if "train_seconds" in next(iter(runs.values()))[0]
    }
    if timed:
        lines += [
            "",
            "Training, seconds (epochs), mean over seeds:",
            "",
            "| run | " + " | ".join(f"{n:,}" for n in sizes) + " | all rounds |",
            "|---|" + "---|" * (len(sizes) + 1),
        ]
        for name, runs in timed.items():
            cells = []
            for n in sizes:
                points = [p for curve in runs.values() for p in curve if p["labels"] == n]
                seconds = np.mean([p["train_seconds"] for p in points])
                cells.append(f"{seconds:.0f} ({np.mean([p['epochs'] for p in points]):.0f})")
            total = np.mean([sum(p["train_seconds"] for p in c) for c in runs.values()])
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {total:.0f} |")
    lines += [
        "",
        "Per seed, at the last round: emission F1 (precision / recall of any emission), and"
        " the labels among which the first emitter was:",
        "",
    ]
    for name, runs in curves.items():
        for seed, curve in runs.items():
            last = curve[-1]
            first = next((p["labels"] for p in curve if p["emission_labelled"] > 0), None)
            f1 = last["f1"]
            by_ew = ", ".join(f"{b} Å {r:.2f}" for b, r in f1.get("recall_by_ew", {}).items())
            lines.append(
                f"- {name}, seed {seed}: {last['labels']} labels, F1 {f1['emission']:.2f}"
                f" ({f1['any_emission_precision']:.2f} / {f1['any_emission_recall']:.2f}),"
                f" {last['emission_labelled']} emitters labelled; the first among the first"
                f" {first} labels" + (f"; recall by EW: {by_ew}" if by_ew else "")
            )
    if "models" in results:
        lines += ["", *models_table(results["models"])]
    for name, runs in curves.items():
        lines += catalogue_table(name, runs)
    return "\n".join(lines) + "\n"


def catalogue_table(name: str, runs: dict) -> list[str]:
    """Per seed and round: the catalogue handed over once the round's batch is answered,
    its true precision, completeness and F1 (the simulated truth) beside the estimates
    and their 95 % intervals (in brackets where too wide to be given: "not measurable
    yet"), a tick where the truth lies inside; the coverage; the largest drop of the
    catalogue's F1 between rounds after the first emitters are found."""
    points = [(s, p["catalogue"]) for s, c in runs.items() for p in c if "catalogue" in p]
    if not points:
        return []
    lines = [
        "",
        f"The catalogue of run {name} (answered emitters plus those predicted), against the"
        " truth and as estimated:",
        "",
        "| seed | labels | size | precision | estimate | completeness | estimate | F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def estimate(point: dict, key: str) -> str:
        low, high = point[f"{key}_interval"] or (np.nan, np.nan)
        text = f"[{low:.2f}, {high:.2f}]" if point[f"{key}_given"] else f"([{low:.2f}, {high:.2f}])"
        value = "" if point[key] is None else f"{point[key]:.3f} "
        mark = {True: " ✓", False: " ✗", None: ""}[point[f"{key}_inside"]]
        return f"{value}{text}{mark}"

    for seed, point in points:
        truth = point["truth"]
        lines.append(
            f"| {seed} | {point['labels']:,} | {point['size']} | {truth['precision']:.3f}"
            f" | {estimate(point, 'precision')} | {truth['completeness']:.3f}"
            f" | {estimate(point, 'completeness')} | {truth['f1']:.3f} |"
        )
    lines.append("")
    for key in ("precision", "completeness"):
        inside = [p[f"{key}_inside"] for _, p in points if p[f"{key}_inside"] is not None]
        given = [p for _, p in points if p[f"{key}_given"]]
        widths = [p[f"{key}_interval"][1] - p[f"{key}_interval"][0] for p in given]
        lines.append(
            f"- {key}: the truth inside the interval in {sum(inside)} of {len(inside)} rounds;"
            f" given (not too wide) in {len(given)}"
            + (f", median width {np.median(widths):.3f}" if widths else "")
        )
    for seed, curve in runs.items():
        f1 = [p["catalogue"]["truth"]["f1"] for p in curve if "catalogue" in p]
        found = [p["catalogue"]["truth"]["f1"] > 0 for p in curve if "catalogue" in p]
        after = f1[found.index(True) :] if True in found else []
        drop = max([0.0, *(a - b for a, b in pairwise(after))])
        lines.append(f"- seed {seed}: largest drop of the catalogue's F1 between rounds {drop:.3f}")
        bound = curve[-1].get("completeness_bound")
        if bound:
            widths = ", ".join(f"±{bound[n]:.2f} with {int(n):,}" for n in ("400", "1000", "10000"))
            lines.append(
                f"  at the last round {bound['missed']} of {bound['objects_of_interest']}"
                " objects of interest are still missed; the narrowest completeness interval"
                f" any stratified sample could give (Neyman on the true rates): {widths}"
            )
    return lines


def models_table(runs: dict) -> list[str]:
    """Each candidate model on the labels the default run chose: emission F1 and the
    recall of any emission, mean ± standard deviation over seeds, and per seed."""
    labels = next(iter(runs.values()))["labels"]
    names = list(next(iter(runs.values()))["models"])
    lines = [
        f"Models trained on the same {labels:,} labels (those default chose), calibrated:",
        "",
        "| model | emission F1 | per seed | any-emission precision / recall |",
        "|---|---|---|---|",
    ]
    for name in names:
        scores = [run["models"][name] for run in runs.values()]
        f1 = [s["emission"] for s in scores]
        precision = np.mean([s["any_emission_precision"] for s in scores])
        recall = np.mean([s["any_emission_recall"] for s in scores])
        lines.append(
            f"| {name} | {np.mean(f1):.2f} ± {np.std(f1):.2f} | "
            + ", ".join(f"{v:.2f}" for v in f1)
            + f" | {precision:.2f} / {recall:.2f} |"
        )
    return lines
