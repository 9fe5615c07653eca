"""The loop across iterations: the learning curve, how the candidates move, when to stop.

Pure functions on each iteration's records (performance.json and the answer tables), so
that a test can hand them made-up histories.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from alspec.vocabulary import UNSURE

SETTLED, GO_ON = "the candidates have settled", "go on"


def learning_curve(
    records: Sequence[Mapping[str, Any]],
    answers: Sequence[pd.DataFrame],
    classes_of_interest: Collection[str],
) -> pd.DataFrame:
    """One row per iteration (classification mode) from its performance record and its
    answers so far (training set and batch: `label`, `reason`): the labels trained on,
    the candidates, their precision and interval, the F1 scores there are, and the
    labels of a class of interest found so far, in all (`found`) and by the reason they
    were asked (`found_by_<reason>`: the cold start, uncertainty, a discovery source)."""
    interest = set(classes_of_interest)
    rows = []
    for record, known in zip(records, answers, strict=True):
        estimate = record["candidate_precision"]
        low, high = estimate["precision_interval"]
        found = known.loc[known["label"].isin(interest)]
        rows.append(
            {
                "iteration": record["iteration"],
                "labels": record["training_set_size"],
                "candidates": record["candidates"],
                "precision": estimate["precision"],
                "precision_low": low if estimate["precision"] is not None else None,
                "precision_high": high if estimate["precision"] is not None else None,
                "precision_sample": estimate["sample_size"],
                "validation_f1": record.get("validation_f1"),
                "held_out_f1": (record.get("held_out") or {}).get("interest_f1"),
                "truth_f1": (record.get("truth") or {}).get("interest_f1"),
                "found": len(found),
                **{f"found_by_{r}": len(g) for r, g in found.groupby("reason", sort=True)},
            }
        )
    curve = pd.DataFrame(rows)
    by_reason = [c for c in curve if c.startswith("found_by_")]
    curve[by_reason] = curve[by_reason].fillna(0).astype(int)
    measured = ("precision", "precision_low", "precision_high", "validation_f1", "held_out_f1")
    return curve.astype(dict.fromkeys(measured, float) | {"truth_f1": float})


def ranking_curve(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per iteration (anomaly mode): relevance answers, the batch's mean relevance,
    and per class of the truth RWS and recall before and after relevance learning."""
    rows = []
    for record in records:
        row = {
            "iteration": record["iteration"],
            "labels": record["training_set_size"],
            "batch_relevance": record["batch_relevance"]["mean"],
        }
        for when in ("before", "after"):
            for name, scores in record.get(when, {}).items():
                row[f"rws_{when}_{name}"] = scores["rws"]
                row[f"recall_{when}_{name}"] = scores["recall"]
        rows.append(row)
    return pd.DataFrame(rows)


def candidate_change(previous: Collection[str], current: Collection[str]) -> dict[str, Any]:
    """How much the candidate list moved: the Jaccard overlap of the two lists of ids,
    and how many are new and how many dropped."""
    before, now = set(previous), set(current)
    union = before | now
    return {
        "overlap": len(before & now) / len(union) if union else 1.0,
        "new": len(now - before),
        "dropped": len(before - now),
    }


def candidate_history(
    candidate_ids: Sequence[Collection[str]], curve: pd.DataFrame
) -> pd.DataFrame:
    """Per iteration (the curve's rows, in order, with the candidate ids of each): the
    candidates, their change from the iteration before and the precision's interval."""
    rows = []
    for i, ids in enumerate(candidate_ids):
        change = candidate_change(candidate_ids[i - 1], ids) if i else {}
        rows.append(
            {"iteration": int(curve["iteration"].iloc[i]), "candidates": len(ids), **change}
        )
    history = pd.DataFrame(rows).reindex(
        columns=["iteration", "candidates", "overlap", "new", "dropped"]
    )
    if "precision" in curve:
        history["precision"] = curve["precision"].to_numpy()
        history["interval_width"] = (curve["precision_high"] - curve["precision_low"]).to_numpy()
    return history


def stopping_advice(history: pd.DataFrame, stop: Mapping[str, Any]) -> dict[str, Any]:
    """Whether another iteration is worth its labels (config report.stop): the candidates
    have settled when, over the last `patience` iterations, each list overlapped the one
    before by at least `overlap`, the precision moved by at most `precision_change` and its
    interval is no wider than `interval_width` (where the history has a precision).
    Returns the verdict, one sentence saying why, and each condition's state."""
    patience = stop["patience"]
    recent = history.tail(patience)
    reasons: list[str] = []
    if len(history) <= patience:
        reasons.append(f"{len(history)} iteration(s), {patience + 1} needed to judge")
    else:
        low = float(recent["overlap"].min())
        if low < stop["overlap"]:
            reasons.append(f"the candidate list moved (overlap {low:.2f} < {stop['overlap']:.2f})")
        if "precision" in history:
            reasons += _precision_reasons(history.tail(patience + 1), stop)
    settled = not reasons
    sentence = (
        f"{SETTLED}: over the last {patience} iterations they overlapped by at least"
        f" {stop['overlap']:.2f}"
        + (", with a steady, narrow precision" if "precision" in history else "")
        if settled
        else f"{GO_ON}: " + "; ".join(reasons)
    )
    return {"settled": settled, "advice": sentence, "reasons": reasons, "rule": dict(stop)}


def _precision_reasons(recent: pd.DataFrame, stop: Mapping[str, Any]) -> list[str]:
    """What in the recent precision estimates says the candidates have not settled."""
    precision = recent["precision"]
    if precision.isna().any():
        return [f"the precision is not measured in each of the last {len(recent)} iterations"]
    reasons = []
    moved = float(precision.diff().abs().max())
    if moved > stop["precision_change"]:
        reasons.append(f"the precision moved by {moved:.2f} (> {stop['precision_change']:.2f})")
    width = float(recent["interval_width"].iloc[-1])
    if width > stop["interval_width"]:
        reasons.append(
            f"the precision's interval is {width:.2f} wide (> {stop['interval_width']:.2f})"
        )
    return reasons


def known_answers(training_set: pd.DataFrame, batch: pd.DataFrame) -> pd.DataFrame:
    """Every answer known after an iteration: what it trained on and its batch's answers
    (`id`, `label`, `reason`), "unsure" left out."""
    known = pd.concat([training_set, batch], ignore_index=True)
    if "reason" not in known:
        known["reason"] = None
    known["reason"] = known["reason"].fillna("initial")
    return known.loc[known["label"] != UNSURE, ["id", "label", "reason"]]
