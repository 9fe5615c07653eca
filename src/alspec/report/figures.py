"""The report's charts, drawn with matplotlib from tables the other modules compute.

Every function takes its data and returns a `Figure` (no pyplot state, so drawing works
in any process); the caller saves it. Axes, legends and titles say what is shown, so a
figure reads on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def learning_curve_figure(curve: pd.DataFrame) -> Figure:
    """Classification mode: per labels trained on, the catalogue's estimated precision
    and completeness with their intervals (the truth dashed, where known), the F1 scores
    there are, the catalogue's size, and the labels of interest found by each reason
    they were asked."""
    figure = Figure(figsize=(11, 7.5), layout="constrained")
    (estimates, f1), (catalogue, found) = figure.subplots(2, 2, sharex=True)
    labels = curve["labels"]
    for colour, name in (("C0", "precision"), ("C1", "completeness")):
        measured = curve.dropna(subset=[name])
        if len(measured):
            estimates.fill_between(
                measured["labels"], measured[f"{name}_low"], measured[f"{name}_high"],
                color=colour, alpha=0.2,
            )  # fmt: skip
            estimates.plot(measured["labels"], measured[name], "o-", color=colour, label=name)
        truth = f"truth_{name}"
        if truth in curve and curve[truth].notna().any():
            estimates.plot(labels, curve[truth], "--", color=colour, label=f"{name} (truth)")
    if estimates.get_legend_handles_labels()[0]:
        estimates.legend(loc="lower right", fontsize="small")
    else:
        _note(estimates, "no estimate yet (too few answers in the estimate sample)")
    estimates.set(
        title="Catalogue: precision and completeness (estimate sample)",
        ylabel="estimate and interval",
        ylim=(0, 1.02),
    )
    scores = {"validation_f1": "validation", "held_out_f1": "held-out set", "truth_f1": "truth"}
    drawn = [c for c in scores if c in curve and curve[c].notna().any()]
    for column in drawn:
        f1.plot(labels, curve[column], "o-", label=scores[column])
    if drawn:
        f1.legend(loc="lower right")
    else:
        _note(f1, "no F1 measurable yet")
    f1.set(title="F1 (classes of interest)", ylabel="F1", ylim=(0, 1.02))
    catalogue.plot(labels, curve["catalogue"], "o-", color="black")
    catalogue.set(
        title="Catalogue (answered and predicted)", xlabel="labels trained on", ylabel="spectra"
    )
    found.plot(labels, curve["found"], "o-", color="black", label="all")
    for column in sorted(c for c in curve if c.startswith("found_by_")):
        found.plot(labels, curve[column], ".--", label=column.removeprefix("found_by_"))
    found.legend(title="asked as", loc="upper left", fontsize="small")
    found.set(title="Labels of interest found", xlabel="labels trained on", ylabel="labels")
    for axes in (estimates, f1, catalogue, found):
        axes.grid(alpha=0.3)
    return figure


def ranking_curve_figure(curve: pd.DataFrame) -> Figure:
    """Anomaly mode: per relevance answers, RWS and recall of each class of the truth
    after relevance learning (the detector's alone dashed), and the batches' relevance."""
    figure = Figure(figsize=(13, 4.2), layout="constrained")
    rws, recall, relevance = figure.subplots(1, 3, sharex=True)
    labels = curve["labels"]
    classes = sorted(c.removeprefix("rws_after_") for c in curve if c.startswith("rws_after_"))
    for i, name in enumerate(classes):
        colour = f"C{i}"
        for axes, score in ((rws, "rws"), (recall, "recall")):
            axes.plot(labels, curve[f"{score}_after_{name}"], "o-", color=colour, label=name)
            axes.plot(labels, curve[f"{score}_before_{name}"], "--", color=colour, alpha=0.6)
    for axes, title in ((rws, "Rank-weighted score"), (recall, "Recall in the top N")):
        axes.set(
            title=title + " (dashed: detector alone)", xlabel="relevance answers", ylim=(0, 1.02)
        )
        if classes:
            axes.legend(title="class", fontsize="small")
        else:
            _note(axes, "no truth to score the ranking against")
        axes.grid(alpha=0.3)
    relevance.plot(labels, curve["batch_relevance"], "o-", color="black")
    relevance.set(
        title="Mean relevance of each batch", xlabel="relevance answers", ylabel="relevance"
    )
    relevance.grid(alpha=0.3)
    return figure


def confusion_figure(
    matrices: Mapping[str, Mapping[str, Any]], counts: pd.DataFrame, colours: Mapping[str, str]
) -> Figure:
    """The confusion matrices there are (title -> {classes, counts}; rows the true class),
    each cell its count and row share, and the predicted classes' counts against the
    iteration before (`counts`: class x iteration)."""
    panels = len(matrices) + 1
    figure = Figure(figsize=(4.6 * panels, 4.4), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, panels))
    for ax, (title, matrix) in zip(axes, matrices.items(), strict=False):
        _confusion(ax, title, matrix["classes"], np.asarray(matrix["counts"]))
    bars = axes[-1]
    width = 0.8 / max(1, counts.shape[1])
    x = np.arange(len(counts))
    for i, column in enumerate(counts.columns):
        bars.bar(
            x + i * width, counts[column], width,
            color=[colours.get(c, "black") for c in counts.index],
            alpha=0.45 if i < counts.shape[1] - 1 else 1.0, label=f"iteration {column}",
        )  # fmt: skip
    bars.set_xticks(x + width * (counts.shape[1] - 1) / 2, counts.index, rotation=20)
    bars.set(title="Predicted classes (pale: previous iteration)", ylabel="spectra", yscale="log")
    bars.legend(fontsize="small")
    if not matrices:
        figure.suptitle("No held-out set or truth: no confusion matrix", fontsize="medium")
    return figure


def _confusion(ax, title: str, classes: Sequence[str], counts: np.ndarray) -> None:
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(counts):
        colour = "white" if share[i, j] > 0.6 else "black"
        ax.text(j, i, f"{n}\n{share[i, j]:.0%}", ha="center", va="center", color=colour, fontsize=8)
    ax.set_xticks(range(len(classes)), classes, rotation=20)
    ax.set_yticks(range(len(classes)), classes)
    ax.set(title=title, xlabel="predicted", ylabel="true")


def relevance_figure(batch: pd.Series, so_far: pd.Series, maximum: int) -> Figure:
    """Anomaly mode: how often each relevance was answered, this batch and in all."""
    figure = Figure(figsize=(6.5, 4), layout="constrained")
    ax = figure.subplots()
    levels = np.arange(maximum + 1)
    width = 0.4
    for offset, (values, name) in enumerate(
        ((so_far, "all answers so far"), (batch, "this batch"))
    ):
        counts = values.value_counts().reindex(levels, fill_value=0)
        ax.bar(levels + (offset - 0.5) * width, counts, width, label=name)
    ax.set_xticks(levels)
    ax.set(title="Relevance answers", xlabel="relevance (0: not interesting)", ylabel="answers")
    ax.legend()
    return figure


def stopping_figure(history: pd.DataFrame, advice: Mapping[str, Any]) -> Figure:
    """The candidate list's overlap with the iteration before, new and dropped candidates,
    the catalogue's estimated precision and completeness and their intervals' widths,
    the thresholds of report.stop dashed, and the advice as the title."""
    rule = advice["rule"]
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    overlap, churn = figure.subplots(1, 2, sharex=True)
    iterations = history["iteration"]
    overlap.plot(iterations, history["overlap"], "o-", color="black", label="overlap (Jaccard)")
    overlap.axhline(rule["overlap"], ls="--", color="black", alpha=0.5)
    for marker, colour, name in (("s-", "C0", "precision"), ("D-", "C1", "completeness")):
        if name in history:
            overlap.plot(iterations, history[name], marker, color=colour, label=name)
            overlap.plot(
                iterations, history[f"{name}_width"], ":", color=colour,
                label=f"{name}: interval width",
            )  # fmt: skip
    if "precision" in history:
        overlap.axhline(rule["precision"], ls="--", color="C0", alpha=0.5)
        overlap.axhline(rule["interval_width"], ls="--", color="grey", alpha=0.5)
    overlap.set(
        title="Candidate list against the iteration before", xlabel="iteration", ylim=(0, 1.02)
    )
    overlap.legend(fontsize="small", loc="lower left")
    churn.bar(iterations - 0.2, history["new"].fillna(0), 0.4, label="new", color="C2")
    churn.bar(iterations + 0.2, history["dropped"].fillna(0), 0.4, label="dropped", color="C3")
    churn.set(title="Candidates new and dropped", xlabel="iteration", ylabel="spectra")
    churn.legend(fontsize="small")
    for ax in (overlap, churn):
        ax.set_xticks(iterations)
        ax.grid(alpha=0.3)
    figure.suptitle(advice["advice"], fontsize="medium", wrap=True)
    return figure


def batch_table(batch: pd.DataFrame, iteration: int) -> str:
    """The batch as an HTML page: each spectrum asked, why, its score, the model's
    prediction and the oracle's answer."""
    style = (
        "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;font-size:13px}"
        "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}th{background:#eee}"
    )
    counts = batch["reason"].value_counts().to_dict()
    summary = ", ".join(f"{n} {reason}" for reason, n in counts.items())
    table = batch.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.3f}", border=0)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Batch of iteration {iteration}"
        f"</title><style>{style}</style></head><body><h3>Batch of iteration {iteration}:"
        f" {len(batch)} spectra asked ({summary})</h3>{table}</body></html>"
    )


def _note(ax, text: str) -> None:
    """A line in an empty panel saying why it is empty."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, wrap=True)
