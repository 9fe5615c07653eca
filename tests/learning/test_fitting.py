"""What every model's training shares: the validation split, class balance, checkpoints."""

from __future__ import annotations

import numpy as np

from alspec.learning import fitting


def test_the_validation_split_is_stratified_and_keeps_rare_classes_for_training():
    y = np.array([0] * 50 + [1] * 10 + [2] * 3)
    train, validation = fitting.validation_split(y, 0.2, seed=0)
    assert np.bincount(y[validation], minlength=3).tolist() == [10, 2, 0]
    assert sorted([*train, *validation]) == list(range(len(y)))
    again = fitting.validation_split(y, 0.2, seed=0)
    np.testing.assert_array_equal(again[1], validation)


def test_class_weights_balance_rare_classes():
    weights = fitting.class_weights(np.array([0] * 90 + [1] * 10), 3)
    assert weights[0] * 90 == weights[1] * 10 == 50
    assert weights[2] == 0.0


def test_smote_synthesises_the_rare_class_up_to_the_common_one(rng):
    x = rng.normal(size=(46, 5)).astype(np.float32)
    y = np.array([0] * 40 + [1] * 6)
    balanced = fitting.balance(x, y, 2, "smote", neighbours=5, seed=0)
    assert balanced.method == "smote" and balanced.sample_weight is None
    assert np.bincount(balanced.y).tolist() == [40, 40]
    assert balanced.x.dtype == np.float32 and balanced.x.shape == (80, 5)
    # the new examples lie between examples of the rare class
    rare = x[y == 1]
    synthetic = balanced.x[46:]
    assert (synthetic >= rare.min(0) - 1e-6).all() and (synthetic <= rare.max(0) + 1e-6).all()


def test_smote_falls_back_to_class_weights_and_says_why(rng, caplog):
    x = rng.normal(size=(45, 140))
    y = np.array([0] * 40 + [1] * 5)
    balanced = fitting.balance(x, y, 2, "smote", neighbours=5, seed=0)
    assert balanced.method == "class_weight"
    assert "class 1 has 5" in caplog.text
    assert len(balanced.y) == 45
    np.testing.assert_allclose(
        balanced.sample_weight[y == 1].sum(), balanced.sample_weight[y == 0].sum()
    )


def test_checkpoint_names_carry_iteration_and_validation_f1():
    assert fitting.checkpoint_name(3, 0.8567, ".keras") == "iteration-003_val-f1-0.857.keras"
    assert fitting.checkpoint_name(0, None, ".joblib") == "iteration-000_val-f1-none.joblib"


def test_macro_f1_over_the_classes_present():
    assert fitting.macro_f1(np.array([0, 0, 1]), np.array([0, 0, 1])) == 1.0
    assert fitting.macro_f1(np.array([]), np.array([])) is None
