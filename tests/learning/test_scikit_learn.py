"""scikit-learn models on the pool's features, alone or as a committee."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from alspec.features.matrix import feature_matrix, usable
from alspec.learning import scikit_learn
from alspec.vocabulary import SCIKIT_LEARN_MODELS


def toy_features(rng: np.random.Generator, n: int = 150) -> tuple[np.ndarray, np.ndarray]:
    """Three classes apart in the first two columns; some line measurements missing."""
    y = np.arange(n) % 3
    x = rng.normal(0, 1, (n, 6)).astype(np.float32)
    x[:, 0] += 4 * (y == 1)
    x[:, 1] += 4 * (y == 2)
    x[rng.random(n) < 0.1, 4] = np.nan
    return x, y


@pytest.mark.parametrize("kind", SCIKIT_LEARN_MODELS)
@pytest.mark.parametrize("multiclass", scikit_learn.MULTICLASS)
def test_each_model_learns_the_classes(rng, kind, multiclass):
    x, y = toy_features(rng)
    committee, report = scikit_learn.train(x, y, 3, [kind], multiclass, "smote", 0.2, 5, seed=0)
    assert report["validation_f1"] > 0.85 and report["balance"] == "smote"
    test_x, test_y = toy_features(np.random.default_rng(9))
    p = committee.predict_proba(test_x)
    assert p.shape == (150, 3)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    assert (p.argmax(1) == test_y).mean() > 0.85


def test_a_committee_gives_each_members_probabilities(rng):
    x, y = toy_features(rng)
    committee, report = scikit_learn.train(
        x, y, 4, SCIKIT_LEARN_MODELS, "multiclass", "class_weight", 0.2, 5, seed=0
    )
    members = committee.members_proba(x[:10])
    assert members.shape == (3, 10, 4)
    assert (members[..., 3] == 0).all(), "a class no member saw has probability 0"
    np.testing.assert_allclose(committee.predict_proba(x[:10]), members.mean(0))
    assert report["models"] == list(SCIKIT_LEARN_MODELS)


def test_the_feature_matrix_is_pca_then_lines():
    features = xr.Dataset(
        {
            "pca": (("spectrum", "component"), np.arange(6.0).reshape(3, 2)),
            "ew": (("spectrum", "line"), np.array([[1.0], [np.nan], [3.0]])),
            "peak": (("spectrum", "line"), np.ones((3, 1))),
        }
    )
    matrix = feature_matrix(features)
    assert matrix.shape == (3, 4)
    np.testing.assert_array_equal(matrix[:, :2], features.pca.values)
    assert usable(matrix).all()
