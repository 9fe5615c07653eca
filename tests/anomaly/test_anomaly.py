"""Anomaly mode's science (seed 004): detector orientation, eq. 1-3 and its limits,
relevance learning, the rank-weighted score and recall, the Table 1 data set."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from alspec.anomaly.detectors import DETECTORS, detector_scores
from alspec.anomaly.relevance import Relevance, ranked_outputs, ranking, rerank, trained_score
from alspec.config import schema as cfg
from alspec.evaluation.ranking import rank_weighted_score, recall_by_index
from alspec.survey.synthetic_curves import COUNTS, OUTLIER_CLASSES, simulate_curves

SEED_004 = Relevance.from_config(cfg.default("anomaly", "relevance"))  # its constants


@pytest.mark.parametrize("method", DETECTORS)
def test_an_obvious_outlier_ranks_first(method, rng):
    normal = rng.normal(0.0, 1.0, (300, 5))
    features = np.vstack([normal[:150], [[12.0, -9.0, 10.0, 11.0, -12.0]], normal[150:]])
    score = detector_scores(features, method, seed=0, neighbours=20)
    assert score.min() == 0.0 and score.max() == 1.0
    assert ranking(score)[0] == 150


def test_an_unknown_detector_is_named():
    with pytest.raises(ValueError, match="unknown anomaly detector 'svm'"):
        detector_scores(np.zeros((5, 2)), "svm", seed=0, neighbours=20)


def test_a_labelled_spectrum_gets_its_score_times_the_normalised_relevance():
    score, relevance = np.array([0.9, 0.9, 0.5]), np.array([0.0, 5.0, 3.0])
    trained = trained_score(score, relevance, np.zeros(3), 2.0, SEED_004)
    normalised = 0.1 + 0.85 * relevance / 5  # eq. 2
    np.testing.assert_allclose(trained, score * normalised)


def test_a_spectrum_far_from_every_label_keeps_its_score():
    score = np.array([0.7, 0.7])
    trained = trained_score(score, np.array([0.0, 5.0]), np.full(2, 50.0), 1.0, SEED_004)
    np.testing.assert_allclose(trained, score)


def test_between_the_limits_the_formula_of_seed_004():
    constants = dataclasses.replace(SEED_004, alpha=0.5)
    trained = trained_score(np.array([0.8]), np.array([3.0]), np.array([2.0]), 4.0, constants)
    delta = math.exp(0.5 * 2.0 / 4.0)  # eq. 3
    expected = 0.8 * math.tanh(delta - 1 + math.atanh(0.1 + 0.85 * 3 / 5))  # eq. 1, 2
    assert trained[0] == pytest.approx(expected)


def test_relevance_learning_lowers_what_resembles_boring_labels(rng):
    """Two tight groups of equally anomalous points: the expert calls one of each boring
    (0) and interesting (5); the rest of each group follows its labelled member."""
    boring = rng.normal([5.0, 0.0], 0.1, (20, 2))
    interesting = rng.normal([0.0, 5.0], 0.1, (20, 2))
    far = np.array([[40.0, 40.0]])
    features = np.vstack([boring, interesting, far])
    score = np.full(len(features), 0.8)
    trained, predicted = rerank(features, score, np.array([0, 20]), np.array([0.0, 5.0]), SEED_004)
    assert trained[0] == pytest.approx(0.8 * 0.1), "a labelled spectrum: S U~ exactly"
    assert trained[20] == pytest.approx(0.8 * 0.95)
    assert trained[1:20].max() < trained[21:40].min() and trained[1:20].max() < 0.5
    assert predicted[1:20].max() < predicted[21:40].min()
    assert trained[40] == pytest.approx(0.8, abs=1e-6), "far from every label: S"


def test_rank_weighted_score_by_hand():
    assert rank_weighted_score(np.array([1, 0, 1, 1]), n=3) == pytest.approx(4 / 6)
    assert rank_weighted_score(np.ones(10, bool), n=4) == 1.0
    assert rank_weighted_score(np.zeros(10, bool), n=4) == 0.0
    assert rank_weighted_score(np.array([0, 1]), n=2) == pytest.approx(1 / 3)


def test_recall_against_the_index_in_the_ranking():
    recall = recall_by_index(np.array([1, 0, 0, 1]))
    np.testing.assert_allclose(recall, [0.5, 0.5, 0.5, 1.0])


def test_the_table_1_data_set():
    x, y, labels = simulate_curves(seed=4)
    assert x.shape == (100,) and x[0] == 0.0 and x[-1] == 1.0
    assert y.shape == (sum(COUNTS.values()), 100)
    assert {c: int((labels == c).sum()) for c in COUNTS} == COUNTS
    assert set(OUTLIER_CLASSES) == {2, 3, 4}
    steps = y[labels == 2]
    assert np.median(steps[:, :10]) == pytest.approx(1.0, abs=0.1), "h ~ N(1, 0.3) at x = 0"
    assert np.median(steps[:, -5:]) == pytest.approx(0.0, abs=0.1), "0 after the step"
    sines = y[labels == 0]
    assert np.median(sines[:, 0]) == pytest.approx(0.0, abs=0.05), "sin(0) plus noise"
    noise = (sines[:, 0]).std()
    assert noise == pytest.approx(0.1, abs=0.01), "Gaussian noise of sigma 0.1"
    _, again, _ = simulate_curves(seed=4)
    np.testing.assert_array_equal(y, again)


def test_alspec_simulate_writes_the_curves_as_a_table_the_readers_take(tmp_path):
    from alspec.pool.formats import read_spectra

    from conftest import run_alspec

    curves = ("simulate", "--set", "simulate.instrument=curves", "--out", tmp_path)
    wrong = run_alspec(*curves, "--set", "simulate.rates.step=0.1", check=False)
    assert wrong.returncode != 0 and "simulate.rates.step: no such setting" in wrong.stderr
    run_alspec(*curves, "--set", "simulate.n_spectra=999")
    truth = pd.read_parquet(tmp_path / "truth.parquet")
    assert truth["label"].value_counts().to_dict() == {
        "sine": 500, "parabola": 490, "step": 3, "gaussian_bump": 3, "sum_of_sines": 3
    }  # fmt: skip
    spectra = list(read_spectra(tmp_path / "spectra" / "curves.csv"))
    assert [s.id for s in spectra] == list(truth["id"])
    assert spectra[0].wavelength.shape == (100,) and spectra[0].wavelength[-1] == 1.0


def test_the_batch_is_the_top_of_the_ranking_not_yet_answered():
    pool = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "score": [0.9, 0.8, 0.7, 0.1],
            "relevance": [0.2, 4.6, np.nan, 1.0],
            "trained_score": [0.3, 0.8, 0.7, 0.1],
        }
    )
    ranked, query, top = ranked_outputs(pool, {"b"}, batch_size=2, top=3)
    assert list(ranked["id"]) == ["b", "c", "a", "d"] and list(ranked["rank"]) == [1, 2, 3, 4]
    assert list(query["id"]) == ["c", "a"], "b is answered already"
    assert list(query["predicted"]) == ["", "0"] and set(query["reason"]) == {"top_ranked"}
    assert list(top["id"]) == ["b", "c", "a"]


def test_detect_names_a_store_that_holds_no_features(tmp_path):
    from conftest import run_alspec

    xr.Dataset({"flux": (("spectrum", "wavelength"), np.zeros((2, 3)))}).to_zarr(
        tmp_path / "window.zarr", consolidated=False
    )
    run = run_alspec(
        "detect", "--features", tmp_path / "window.zarr", "--out", tmp_path / "s.parquet",
        check=False,
    )  # fmt: skip
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "window.zarr: neither a features store (no `pca`" in run.stderr
    assert "nor a pool directory (no catalog.parquet)" in run.stderr
    assert not (tmp_path / "s.parquet").exists()
