"""Label tables, and the estimates the astronomer reads."""

from __future__ import annotations

import pandas as pd
import pytest

from alspec.errors import LabelError
from alspec.evaluation.metrics import (
    binomial_interval,
    candidate_precision,
    pool_estimate,
    truth_scores,
)
from alspec.oracles.labels import check, merge, record, training_examples

CLASSES = ["other", "single_peak", "double_peak"]


def test_later_answers_replace_earlier_ones():
    first = pd.DataFrame({"id": ["a", "b"], "label": ["other", "single_peak"]})
    second = pd.DataFrame({"id": ["b", "c"], "label": ["double_peak", "unsure"]})
    merged = merge([first, second]).set_index("id")["label"]
    assert merged.to_dict() == {"a": "other", "b": "double_peak", "c": "unsure"}


def test_unsure_never_trains_a_model():
    labels = pd.DataFrame({"id": ["a", "b", "c"], "label": ["other", "unsure", "double_peak"]})
    examples = training_examples(labels, CLASSES)
    assert list(examples["id"]) == ["a", "c"] and list(examples["target"]) == [0, 2]


def test_unknown_labels_are_rejected_with_their_id():
    labels = pd.DataFrame({"id": ["a", "b"], "label": ["other", "be_star"]})
    with pytest.raises(LabelError, match=r"labels\.csv: 1 label.*b: 'be_star'"):
        check(labels, CLASSES, "labels.csv")


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 10, 0.0, 0.30850), (5, 10, 0.18709, 0.81291), (10, 10, 0.69150, 1.0)],
)
def test_clopper_pearson_interval(k, n, low, high):
    assert binomial_interval(k, n, 0.95) == pytest.approx((low, high), abs=1e-5)


def test_candidate_precision_from_the_random_sample():
    labels = pd.DataFrame(
        {
            "id": list("abcdef"),
            "label": ["single_peak", "double_peak", "other", "unsure", "single_peak", "other"],
            "reason": ["random"] * 5 + ["uncertain"],
            "predicted": [
                "single_peak",
                "single_peak",
                "double_peak",
                "single_peak",
                "single_peak",
                "single_peak",
            ],
        }
    )
    estimate = candidate_precision(labels, ["single_peak", "double_peak"], 0.95)
    assert estimate["sample_size"] == 4, "unsure and uncertain-batch answers are left out"
    assert estimate["precision"] == 0.75 and estimate["estimated_error"] == 0.25
    assert estimate["agreement"] == 0.5
    low, high = estimate["precision_interval"]
    assert low < 0.75 < high


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


def test_every_answer_lands_in_the_label_catalogue_once(tmp_path):
    catalogue = tmp_path / "pool" / "labels.parquet"
    first = pd.DataFrame({"id": ["a", "b"], "label": ["other", "unsure"], "batch": "cold_start"})
    assert record(first, catalogue, "session one") == 2
    again = first.assign(label=["single_peak", "unsure"], comment=["on second look", ""])
    assert record(again, catalogue, "session one") == 2, "a batch pulled again replaces its rows"
    later = pd.DataFrame({"id": ["a"], "label": ["other"], "batch": "cold_start"})
    assert record(later, catalogue, "session two") == 3, "another session keeps its own"
    table = pd.read_parquet(catalogue)
    one = table[table["session"] == "session one"].set_index("id")
    assert one.loc["a", "label"] == "single_peak" and one.loc["a", "comment"] == "on second look"
    assert one.loc["b", "label"] == "unsure"
    assert table["recorded_at"].notna().all()
