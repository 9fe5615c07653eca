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
    the catalogue's size, its estimated precision and completeness with their intervals,
    the objects of interest the next 100 labels are expected to add, the F1 scores there
    are (and the catalogue's true precision and completeness where a truth is known),
    and the labels of a class of interest found so far, in all (`found`) and by the
    reason they were asked (`found_by_<reason>`: the cold start, uncertainty, a
    discovery source)."""
    interest = set(classes_of_interest)
    rows = []
    for record, known in zip(records, answers, strict=True):
        catalogue = record["catalogue"]
        expected = catalogue["next_hundred"]
        found = known.loc[known["label"].isin(interest)]
        truth = (record.get("truth") or {}).get("catalogue") or {}
        rows.append(
            {
                "iteration": record["iteration"],
                "labels": record["training_set_size"],
                "catalogue": catalogue["size"],
                **interval_columns("precision", **catalogue["precision"]),
                **interval_columns("completeness", **catalogue["completeness"]),
                "estimate_sample": catalogue["sample"]["size"],
                **interval_columns(
                    "next_hundred", estimate=expected["per_hundred"], interval=expected["interval"]
                ),
                "validation_f1": record.get("validation_f1"),
                "held_out_f1": (record.get("held_out") or {}).get("interest_f1"),
                "truth_f1": (record.get("truth") or {}).get("interest_f1"),
                "truth_precision": truth.get("precision"),
                "truth_completeness": truth.get("completeness"),
                "found": len(found),
                **{f"found_by_{r}": len(g) for r, g in found.groupby("reason", sort=True)},
            }
        )
    curve = pd.DataFrame(rows)
    by_reason = [c for c in curve if c.startswith("found_by_")]
    curve[by_reason] = curve[by_reason].fillna(0).astype(int)
    measured = [c for c in curve if c not in ("iteration", "labels", "catalogue", "found")]
    return curve.astype(dict.fromkeys(set(measured) - set(by_reason), float))


def interval_columns(
    name: str, *, estimate: float | None, interval: Sequence[float] | None, **_: Any
) -> dict[str, float | None]:
    """An estimate and its interval (as performance.json holds them) as columns <name>,
    <name>_low, <name>_high: None where not measurable yet."""
    low, high = interval or (None, None)
    return {name: estimate, f"{name}_low": low, f"{name}_high": high}


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


ESTIMATES = ("precision", "completeness")


def candidate_history(
    candidate_ids: Sequence[Collection[str]], curve: pd.DataFrame
) -> pd.DataFrame:
    """Per iteration (the curve's rows, in order, with the candidate ids of each): the
    candidates, their change from the iteration before and, where the curve has them,
    the catalogue's estimates with their intervals' widths and the next 100 labels'
    expected finds."""
    rows = []
    for i, ids in enumerate(candidate_ids):
        change = candidate_change(candidate_ids[i - 1], ids) if i else {}
        rows.append(
            {"iteration": int(curve["iteration"].iloc[i]), "candidates": len(ids), **change}
        )
    history = pd.DataFrame(rows).reindex(
        columns=["iteration", "candidates", "overlap", "new", "dropped"]
    )
    for name in ESTIMATES:
        if name in curve:
            for column in (name, f"{name}_low", f"{name}_high"):
                history[column] = curve[column].to_numpy()
            history[f"{name}_width"] = history[f"{name}_high"] - history[f"{name}_low"]
    for column in ("next_hundred", "next_hundred_low", "next_hundred_high"):
        if column in curve:
            history[column] = curve[column].to_numpy()
    return history


def stopping_advice(history: pd.DataFrame, stop: Mapping[str, Any]) -> dict[str, Any]:
    """Whether another iteration is worth its labels (config report.stop): the catalogue
    is ready when, over the last `patience` iterations, each candidate list overlapped
    the one before by at least `overlap`, and (where the history has estimates) the
    precision estimate has reached `precision`, the completeness estimate has stopped
    rising (the latest lies within the interval of the one `patience` iterations
    before) and both intervals are no wider than `interval_width`. Returns the verdict,
    one sentence saying why and what the next 100 labels are expected to add, and each
    condition's state."""
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
            reasons += _estimate_reasons(history.tail(patience + 1), stop)
    settled = not reasons
    sentence = (
        f"{SETTLED}: over the last {patience} iterations they overlapped by at least"
        f" {stop['overlap']:.2f}"
        + (
            f", the precision reached {stop['precision']:.2f} and the completeness stopped rising"
            if "precision" in history
            else ""
        )
        if settled
        else f"{GO_ON}: " + "; ".join(reasons)
    )
    return {
        "settled": settled,
        "advice": sentence + _next_hundred_text(history),
        "reasons": reasons,
        "rule": dict(stop),
    }


def _estimate_reasons(recent: pd.DataFrame, stop: Mapping[str, Any]) -> list[str]:
    """What in the recent estimates says the catalogue is not ready."""
    latest, first = recent.iloc[-1], recent.iloc[0]
    unmeasured = [name for name in ESTIMATES if pd.isna(latest[name])]
    if unmeasured:
        return [f"the {' and '.join(unmeasured)} not measurable yet"]
    reasons = []
    if latest["precision"] < stop["precision"]:
        reasons.append(f"the precision {latest['precision']:.2f} is below {stop['precision']:.2f}")
    if pd.isna(first["completeness"]) or latest["completeness"] > first["completeness_high"]:
        since = int(first["iteration"])
        reasons.append(f"the completeness is still rising (beyond iteration {since}'s interval)")
    for name in ESTIMATES:
        if latest[f"{name}_width"] > stop["interval_width"]:
            reasons.append(
                f"the {name}'s interval is {latest[f'{name}_width']:.2f} wide"
                f" (> {stop['interval_width']:.2f})"
            )
    return reasons


def _next_hundred_text(history: pd.DataFrame) -> str:
    """ "; the next 100 labels are expected to add 4 [1, 10] objects of interest"."""
    if "next_hundred" not in history or pd.isna(history["next_hundred"].iloc[-1]):
        return ""
    latest = history.iloc[-1]
    return (
        f"; the next 100 labels are expected to add {latest['next_hundred']:.0f}"
        f" [{latest['next_hundred_low']:.0f}, {latest['next_hundred_high']:.0f}]"
        " objects of interest to the catalogue"
    )


def known_answers(training_set: pd.DataFrame, batch: pd.DataFrame) -> pd.DataFrame:
    """Every answer known after an iteration: what it trained on and its batch's answers
    (`id`, `label`, `reason`), "unsure" left out."""
    known = pd.concat([training_set, batch], ignore_index=True)
    if "reason" not in known:
        known["reason"] = None
    known["reason"] = known["reason"].fillna("initial")
    return known.loc[known["label"] != UNSURE, ["id", "label", "reason"]]
