"""Calibration (the balancing undone) and honest reporting of what cannot be measured yet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alspec.errors import MissingInput
from alspec.evaluation.metrics import picks_by_reason, scarce_classes
from alspec.evaluation.summary import summary_line
from alspec.learning.calibration import adjust, calibrated, class_fractions
from alspec.learning.fitting import unmeasured_classes


def test_prior_correction_by_hand():
    # fitted to equal fractions, wanted 0.98 / 0.02: a spectrum the balanced model gives
    # 0.6 / 0.4 is, by Bayes' rule, 0.6 * 0.98 / 0.5 : 0.4 * 0.02 / 0.5 = 0.588 : 0.008
    calibrated = adjust(np.array([[0.6, 0.4]]), [0.5, 0.5], [0.98, 0.02])
    np.testing.assert_allclose(calibrated, [[0.588 / 0.596, 0.008 / 0.596]])
    # the rare class keeps its lead only where the model is sure of it: 0.99 -> 0.67
    sure = adjust(np.array([[0.01, 0.99]]), [0.5, 0.5], [0.98, 0.02])
    assert sure[0, 1] == pytest.approx(0.99 * 0.02 / (0.99 * 0.02 + 0.01 * 0.98))
    assert sure.argmax() == 1 and calibrated.argmax() == 0


def test_a_class_the_model_never_saw_stays_at_zero_and_committees_calibrate_per_member():
    committee = np.array([[[0.2, 0.5, 0.3]], [[0.1, 0.1, 0.8]]])  # 2 members, 1 spectrum
    calibrated = adjust(committee, [0.5, 0.5, 0.0], [0.9, 0.1, 0.0])
    assert calibrated.shape == committee.shape and (calibrated[..., 2] == 0).all()
    np.testing.assert_allclose(calibrated.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(calibrated[0, 0, :2], [0.18 / 0.23, 0.05 / 0.23], rtol=1e-6)


def test_fractions_count_weights():
    y = np.array([0, 0, 0, 1])
    np.testing.assert_allclose(class_fractions(y, 3), [0.75, 0.25, 0])
    weights = np.array([1 / 3, 1 / 3, 1 / 3, 1.0])  # class weights: equal fractions
    np.testing.assert_allclose(class_fractions(y, 3, weights), [0.5, 0.5, 0])


def test_a_class_of_interest_without_validation_examples_is_not_measurable_yet():
    classes, interest = ["other", "single_peak", "double_peak"], ["single_peak", "double_peak"]
    assert unmeasured_classes([20, 0, 1], classes, interest) == ["single_peak"]
    assert unmeasured_classes([20, 2, 1], classes, interest) == []
    labels = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(8)],
            "label": ["other"] * 5 + ["double_peak"] * 3,
            "reason": [
                "uncertain",
                "uncertain",
                "prior",
                "prior",
                "random",
                "prior",
                "prior",
                "anomaly",
            ],
        }
    )
    batch = picks_by_reason(labels, interest)
    assert batch == {
        "uncertain": {"asked": 2, "of_interest": 0},
        "prior": {"asked": 4, "of_interest": 2},
        "random": {"asked": 1, "of_interest": 0},
        "anomaly": {"asked": 1, "of_interest": 1},
    }
    report = {
        "iteration": 0,
        "training_set_size": 100,
        "catalogue": {
            "size": 0,
            "answered": 0,
            "predicted": 0,
            "precision": {"estimate": None, "why": "the catalogue is empty"},
            "completeness": {"estimate": None, "why": "no object of interest found yet"},
            "sample": {"size": 40},
        },
        "validation_f1": None,
        "not_measurable": ["single_peak", "double_peak"],
        "scarce": scarce_classes(labels["label"], interest, 10),
        "batch": batch,
    }
    line = summary_line(report)
    assert "validation F1 not measurable yet (no single_peak, double_peak" in line
    assert "1.00" not in line
    assert "too few labels to trust yet: single_peak 0, double_peak 3" in line
    assert "prior 2/4" in line and "uncertain 0/2" in line


def test_calibrated_model_by_method():
    def model(x):
        return np.tile([0.5, 0.5], (len(x), 1))

    report = {"fitted_prior": [0.5, 0.5], "labelled_prior": [0.9, 0.1]}
    np.testing.assert_allclose(
        calibrated(model, "labelled_prior", report)(np.zeros(2)), [[0.9, 0.1]] * 2
    )
    assert calibrated(model, "none", None) is model
    with pytest.raises(MissingInput, match="train step's report"):
        calibrated(model, "labelled_prior", None)
    with pytest.raises(ValueError, match="unknown calibration"):
        calibrated(model, "temperature", report)
