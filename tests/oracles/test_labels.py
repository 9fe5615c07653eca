"""Label tables: checked, merged across batches, kept in the pool's label catalogue."""

from __future__ import annotations

import pandas as pd
import pytest

from alspec.errors import LabelError
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
