"""The report's data: learning curve, stopping rule, the map's aggregation, the gallery's
choice. The figures of a finished run are checked in test_workflow.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alspec.report import gallery, history, maps

STOP = {"overlap": 0.9, "precision": 0.9, "interval_width": 0.3, "patience": 2}
INTEREST = ["single_peak", "double_peak"]


def estimate(value: float | None, interval=(0.0, 1.0)) -> dict:
    if value is None:
        return {"estimate": None, "interval": None, "why": "fewer than two answered draws"}
    return {"estimate": value, "interval": list(interval)}


def record(n: int, labels: int, precision: float | None, interval=(0.0, 1.0), f1=None) -> dict:
    return {
        "iteration": n,
        "training_set_size": labels,
        "catalogue": {
            "size": 40 + n,
            "precision": estimate(precision, interval),
            "completeness": estimate(None if precision is None else 0.7, (0.5, 0.9)),
            "sample": {"size": 0 if precision is None else 40},
            "next_hundred": {"per_hundred": 5.0, "interval": [2.0, 11.0]},
        },
        "validation_f1": f1,
        "truth": {
            "interest_f1": 0.5 + 0.1 * n,
            "catalogue": {"precision": 0.9, "completeness": 0.6 + 0.1 * n},
        },
    }


def answers(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [str(i) for i in range(len(rows))],
            "label": [r[0] for r in rows],
            "reason": [r[1] for r in rows],
        }
    )


def test_the_learning_curve_holds_each_iterations_record():
    records = [record(0, 100, None), record(1, 230, 0.8, (0.6, 0.9), f1=0.7)]
    known = [
        answers(("other", "initial"), ("single_peak", "initial")),
        answers(("other", "initial"), ("single_peak", "initial"), ("double_peak", "anomaly"),
                ("single_peak", "uncertain"), ("unsure", "uncertain")),
    ]  # fmt: skip
    curve = history.learning_curve(
        records, [history.known_answers(k, k.iloc[:0]) for k in known], INTEREST
    )
    assert curve["labels"].tolist() == [100, 230]
    assert curve["catalogue"].tolist() == [40, 41]
    assert np.isnan(curve["precision"][0]) and curve["precision"][1] == 0.8
    assert curve[["precision_low", "precision_high"]].iloc[1].tolist() == [0.6, 0.9]
    assert curve[["completeness_low", "completeness_high"]].iloc[1].tolist() == [0.5, 0.9]
    assert curve["truth_f1"].tolist() == [0.5, 0.6]
    assert curve["truth_completeness"].tolist() == pytest.approx([0.6, 0.7])
    assert curve["next_hundred"].tolist() == [5.0, 5.0]
    assert curve["found"].tolist() == [1, 3], "unsure and the common class are not found"
    assert curve["found_by_initial"].tolist() == [1, 1]
    assert curve["found_by_anomaly"].tolist() == [0, 1]


def test_candidate_change_is_the_jaccard_overlap():
    change = history.candidate_change({"a", "b", "c"}, {"b", "c", "d", "e"})
    assert change == {"overlap": 2 / 5, "new": 2, "dropped": 1}
    assert history.candidate_change(set(), set())["overlap"] == 1.0


def made_history(overlaps, precisions, completeness, width=0.2) -> pd.DataFrame:
    """A history with the estimates' intervals `width` wide, centred on each estimate."""
    n = len(overlaps)
    table = pd.DataFrame({"iteration": range(n), "overlap": overlaps})
    for name, values in (("precision", precisions), ("completeness", completeness)):
        table[name] = values
        table[f"{name}_low"] = table[name] - width / 2
        table[f"{name}_high"] = table[name] + width / 2
        table[f"{name}_width"] = width
    return table.assign(next_hundred=4.0, next_hundred_low=1.0, next_hundred_high=9.0)


def test_the_stopping_rule_says_ready_when_the_estimates_hold_still():
    ready = made_history([np.nan, 0.7, 0.93, 0.95], [0.5, 0.8, 0.92, 0.95], [0.5, 0.74, 0.78, 0.8])
    advice = history.stopping_advice(ready, STOP)
    assert advice["settled"] and advice["advice"].startswith(history.SETTLED)
    expected = "the next 100 labels are expected to add 4 [1, 9] objects of interest"
    assert expected in advice["advice"]


STILL = [np.nan, 0.95, 0.95, 0.96]


@pytest.mark.parametrize(
    ("overlaps", "precisions", "completeness", "width", "why"),
    [
        ([np.nan, 0.95, 0.7, 0.96], [0.95] * 4, [0.8] * 4, 0.2, "candidate list moved"),
        (STILL, [0.95, 0.9, 0.85, 0.85], [0.8] * 4, 0.2, "precision 0.85 is below 0.90"),
        (STILL, [0.95] * 4, [0.5, 0.6, 0.7, 0.85], 0.2, "completeness is still rising"),
        (STILL, [0.95] * 4, [0.8] * 4, 0.4, "interval is 0.40 wide"),
        (STILL, [0.95, np.nan, 0.95, np.nan], [0.8] * 4, 0.2, "precision not measurable yet"),
        ([np.nan, 0.99], [0.95] * 2, [0.8] * 2, 0.1, "3 needed"),
    ],
)
def test_the_stopping_rule_says_go_on_and_why(overlaps, precisions, completeness, width, why):
    made = made_history(overlaps, precisions, completeness, width)
    advice = history.stopping_advice(made, STOP)
    assert not advice["settled"]
    assert advice["advice"].startswith(history.GO_ON) and why in advice["advice"]


def test_without_a_precision_only_the_list_decides():
    """Anomaly mode: the candidates are the top of the ranking, with no precision."""
    moving = pd.DataFrame({"iteration": range(4), "overlap": [np.nan, 0.95, 0.95, 0.5]})
    still = moving.assign(overlap=[np.nan, 0.5, 0.95, 0.92])
    assert not history.stopping_advice(moving, STOP)["settled"]
    assert history.stopping_advice(still, STOP)["settled"]


def test_the_map_counts_every_spectrum_in_its_class(rng):
    n = 20_000
    classes = ["other", "single_peak", "double_peak"]
    points = pd.DataFrame(
        {
            "x": rng.normal(size=n).astype(np.float32),
            "y": rng.normal(size=n).astype(np.float32),
            "predicted": rng.choice(classes, n, p=[0.97, 0.02, 0.01]),
        }
    )
    grid = maps.Grid.around(points["x"].to_numpy(), points["y"].to_numpy(), (200, 150))
    panel, shown = maps.class_panel(points, grid, classes, INTEREST)
    assert shown == points["predicted"].value_counts().to_dict()
    assert panel["image"].shape == (150, 200, 4)
    red = int(maps.class_colours(classes, INTEREST)["single_peak"][1:3], 16)
    assert (panel["image"][..., 0] == red).any(), "the rare class is drawn in its colour"


def test_the_gallery_shows_the_top_candidates_and_every_sampled_one():
    found = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "label": ["single_peak"] * 4 + ["double_peak"],
            "probability": [0.6, 0.9, 0.7, 1.0, 0.95],
            "source": ["predicted"] * 3 + ["oracle", "predicted"],
        }
    )
    batch = pd.DataFrame(
        {
            "id": ["x", "c", "y"],
            "reason": ["uncertain", "estimate", "estimate"],
            "predicted": ["other", "single_peak", "double_peak"],
            "probability": [0.4, 0.7, 0.55],
        }
    )
    given = pd.DataFrame({"id": ["c", "y", "x"], "label": ["single_peak", "other", "other"]})
    rows = gallery.candidate_rows(found, batch, given, top=2)
    # confirmed ones are not candidates to check; y was drawn among the non-candidates
    assert rows["id"].tolist() == ["e", "b", "c"]
    assert rows["group"].tolist() == [gallery.TOP] * 2 + [gallery.SAMPLED]
    assert rows["answer"].tolist() == ["", "", "single_peak"]


def test_each_gallery_cell_is_titled_with_its_spectrum_and_answer():
    rows = pd.DataFrame(
        {
            "id": ["a", "b"],
            "group": [gallery.TOP, gallery.SAMPLED],
            "predicted": ["single_peak", "double_peak"],
            "probability": [0.91, 0.62],
            "answer": ["", "other"],
        }
    )
    curve = (np.linspace(6519, 6732, 140), np.zeros(140))
    figure = gallery.gallery_figure(rows, {"a": curve}, {"b": curve}, score_name="probability")
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles == [
        "a (top)\npredicted single_peak (probability 0.91)\nanswer: not asked",
        "b (estimate sample)\npredicted double_peak (probability 0.62)\nanswer: other",
    ]
    assert len(figure.axes) == 4, "a window and a whole spectrum each"
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert texts == ["no whole spectrum", "no window (model input)"], "what is missing says so"
