"""Intervals, the pool sample (FR13), and scores against a known truth (the catalogue's
estimates from the estimate sample: test_estimates)."""

from __future__ import annotations

import pandas as pd
import pytest

from alspec.evaluation.metrics import (
    binomial_interval,
    catalogue_truth,
    pool_estimate,
    truth_scores,
)

from conftest import CLASSES


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 10, 0.0, 0.30850), (5, 10, 0.18709, 0.81291), (10, 10, 0.69150, 1.0)],
)
def test_clopper_pearson_interval(k, n, low, high):
    assert binomial_interval(k, n, 0.95) == pytest.approx((low, high), abs=1e-5)


def test_the_catalogue_against_the_truth():
    """What the estimates estimate: the catalogue's true precision and completeness."""
    members = pd.DataFrame({"id": ["a", "b", "c"]})
    truth = pd.DataFrame(
        {"id": list("abcdef"), "label": ["single_peak", "double_peak", "other", "single_peak",
                                          "other", "single_peak"]}
    )  # fmt: skip
    pool = pd.Series(list("abcde"))  # f is held out
    scores = catalogue_truth(members, truth, pool, ["single_peak", "double_peak"])
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["completeness"] == pytest.approx(2 / 3) and scores["objects_of_interest"] == 3
    assert scores["f1"] == pytest.approx(2 / 3)


def test_scores_against_the_truth():
    predictions = pd.DataFrame(
        {"id": list("abcd"), "predicted": ["other", "single_peak", "single_peak", "other"]}
    )
    truth = pd.DataFrame(
        {"id": list("abcd"), "label": ["other", "single_peak", "double_peak", "other"]}
    )
    scores = truth_scores(predictions, truth, CLASSES, ["single_peak", "double_peak"])
    assert scores["per_class"]["single_peak"]["precision"] == 0.5
    assert scores["per_class"]["single_peak"]["recall"] == 1.0
    assert scores["per_class"]["double_peak"]["f1"] == 0.0
    assert scores["interest_f1"] == 1.0, "both emitters were found as candidates"
    assert scores["confusion_matrix"]["counts"] == [[2, 0, 0], [0, 1, 0], [0, 1, 0]]


def test_unsure_held_out_labels_are_not_scored():
    predictions = pd.DataFrame({"id": list("ab"), "predicted": ["other", "other"]})
    held_out = pd.DataFrame({"id": list("ab"), "label": ["other", "unsure"]})
    scores = truth_scores(predictions, held_out, CLASSES, ["single_peak"])
    assert scores["spectra"] == 1 and scores["per_class"]["other"]["precision"] == 1.0


def test_the_pool_sample_estimates_how_common_the_interesting_spectra_are():
    labels = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(23)],
            "label": ["other"] * 18 + ["single_peak"] * 2 + ["unsure", "double_peak", "other"],
            "reason": ["pool_random"] * 22 + ["uncertain"],
            "predicted": ["other"] * 19 + ["other"] * 3 + ["other"],
        }
    )
    estimate = pool_estimate(labels, ["single_peak", "double_peak"], 0.95)
    assert estimate["sample_size"] == 21, "unsure and the uncertain batch left out"
    assert estimate["interest_fraction"] == pytest.approx(3 / 21)
    assert estimate["accuracy"] == pytest.approx(18 / 21)
    low, high = estimate["interest_fraction_interval"]
    assert (low, high) == pytest.approx(binomial_interval(3, 21, 0.95))
