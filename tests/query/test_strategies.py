"""Query strategies on hand-computed cases (seed 003 section 2.2), and batch diversity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from alspec.io import as_strings
from alspec.query import strategies
from alspec.query.strategies import (
    bald,
    diverse,
    entropy,
    kl_divergence,
    least_confidence,
    scores,
    smallest_margin,
    vote_entropy,
)

from conftest import CLASSES, run_alspec

UNIFORM = np.full((1, 3), 1 / 3)
CERTAIN = np.array([[1.0, 0.0, 0.0]])


def test_a_uniform_prediction_is_the_most_uncertain_for_every_single_model_strategy():
    rng = np.random.default_rng(0)
    others = rng.dirichlet([1, 1, 1], 200)
    for name, strategy in strategies.SINGLE.items():
        assert strategy(UNIFORM)[0] >= strategy(others).max(), name
        assert strategy(CERTAIN)[0] == pytest.approx(0.0), name


def test_single_model_scores_by_hand():
    p = np.array([[0.5, 0.3, 0.2]])
    expected_entropy = -(0.5 * np.log2(0.5) + 0.3 * np.log2(0.3) + 0.2 * np.log2(0.2))
    assert entropy(p)[0] == pytest.approx(expected_entropy)  # 1.4855 bits
    assert least_confidence(p)[0] == pytest.approx(0.5)
    assert smallest_margin(p)[0] == pytest.approx(1 - (0.5 - 0.3))
    assert entropy(UNIFORM)[0] == pytest.approx(np.log2(3))


def test_vote_entropy_by_hand():
    # three members vote a, a, b for spectrum 0 and a, a, a for spectrum 1
    committee = np.array(
        [
            [[0.9, 0.1], [0.8, 0.2]],
            [[0.6, 0.4], [0.7, 0.3]],
            [[0.2, 0.8], [0.6, 0.4]],
        ]
    )
    expected = -(2 / 3 * np.log2(2 / 3) + 1 / 3 * np.log2(1 / 3))  # 0.9183 bits
    np.testing.assert_allclose(vote_entropy(committee), [expected, 0.0])


def test_kl_divergence_and_bald_by_hand():
    committee = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # two confident members disagree
    # consensus (0.5, 0.5): each member is 1 bit from it; BALD = 1 - 0 = 1 bit
    assert kl_divergence(committee)[0] == pytest.approx(1.0)
    assert bald(committee)[0] == pytest.approx(1.0)
    agreeing = np.array([[[0.5, 0.5]], [[0.5, 0.5]]])  # both unsure alike: nothing to learn
    assert kl_divergence(agreeing)[0] == pytest.approx(0.0)
    assert bald(agreeing)[0] == pytest.approx(0.0)
    assert entropy(agreeing.mean(axis=0))[0] == pytest.approx(1.0), "entropy alone would ask"
    committee = np.array([[[0.8, 0.2]], [[0.4, 0.6]]])  # consensus (0.6, 0.4)
    kl = np.mean(
        [
            0.8 * np.log2(0.8 / 0.6) + 0.2 * np.log2(0.2 / 0.4),
            0.4 * np.log2(0.4 / 0.6) + 0.6 * np.log2(0.6 / 0.4),
        ]
    )
    assert kl_divergence(committee)[0] == pytest.approx(kl)
    assert bald(committee)[0] == pytest.approx(
        entropy(np.array([[0.6, 0.4]]))[0]
        - np.mean([entropy(np.array([[0.8, 0.2]]))[0], entropy(np.array([[0.4, 0.6]]))[0]])
    )


def test_scores_dispatch_by_name_and_check_shapes():
    rng = np.random.default_rng(1)
    single = rng.dirichlet([1, 1, 1], 10)
    np.testing.assert_allclose(scores("entropy", single, rng), entropy(single))
    random = scores("random", single, np.random.default_rng(5))
    np.testing.assert_allclose(random, np.random.default_rng(5).random(10))
    assert set(strategies.names()) >= {
        "entropy",
        "least_confidence",
        "smallest_margin",
        "vote_entropy",
        "kl_divergence",
        "bald",
        "random",
    }
    with pytest.raises(ValueError, match="needs a committee"):
        scores("vote_entropy", single, rng)
    with pytest.raises(ValueError, match="unknown query strategy 'margin'"):
        scores("margin", single, rng)


def test_a_diverse_batch_is_not_near_copies_of_one_spectrum():
    rng = np.random.default_rng(0)
    copies = 1 + rng.normal(0, 0.01, (60, 5))  # one spectrum sixty times, most uncertain
    distinct = rng.normal(0, 1, (40, 5)) * 10
    features = np.vstack([copies, distinct])
    score = np.concatenate([np.full(60, 0.99), rng.uniform(0.5, 0.9, 40)])
    plain = np.argsort(-score)[:5]
    assert (plain < 60).all(), "plain top-k: five copies"
    batch = diverse(score, features, 5, shortlist=20)
    assert len(set(batch)) == 5 and (batch < 60).sum() == 1
    assert score[batch[0]] == 0.99, "the most informative spectrum stays first"


def ask(tmp_path, out: str, *options: object):
    """`alspec query` on tmp_path's predictions and training set, no random sample, no
    discovery (it would read the pool's features)."""
    return run_alspec(
        "query",
        "--predictions",
        tmp_path / "predictions.parquet",
        "--training-set",
        tmp_path / "training.parquet",
        "--set",
        "query.estimate_sample=0",
        "--set",
        "query.discovery.sources=[]",
        *options,
        "--out",
        tmp_path / out,
        "--candidates",
        tmp_path / "c.parquet",
    )


def prediction_table(p: np.ndarray) -> pd.DataFrame:
    """A predict step's table of the probabilities `p` (one row per spectrum)."""
    table = pd.DataFrame({f"p_{c}": p[:, i] for i, c in enumerate(CLASSES)})
    table.insert(0, "id", [f"s{i}" for i in range(len(p))])
    table["predicted"] = np.array(CLASSES)[p.argmax(1)]
    table["probability"] = p.max(1)
    return table


@pytest.mark.parametrize("name", ["least_confidence", "smallest_margin", "random"])
def test_the_query_step_ranks_by_the_configured_strategy(tmp_path, name):
    p = np.random.default_rng(3).dirichlet([1, 1, 1], 300)
    prediction_table(p).to_parquet(tmp_path / "predictions.parquet")
    pd.DataFrame({"id": ["s0"], "label": ["other"]}).to_parquet(tmp_path / "training.parquet")
    result = ask(
        tmp_path,
        "query.parquet",
        *("--set", f"query.strategy={name}", "--set", "query.batch_size=10"),
        *("--set", "query.seed=4"),
    )
    assert f"query ({name}): 10 spectra" in result.stdout
    asked = pd.read_parquet(tmp_path / "query.parquet")["id"].tolist()
    expected = scores(name, p, np.random.default_rng(4))
    expected[0] = -np.inf  # answered already
    assert asked == [f"s{i}" for i in np.argsort(-expected)[:10]]


def test_the_query_step_can_spread_its_batch(tmp_path):
    """Forty near-copies of one window score best: plain top-k asks only copies, the
    diverse batch asks one of them and different-looking spectra."""
    rng = np.random.default_rng(0)
    flux = np.vstack(
        [
            np.sin(np.linspace(0, 3, 140)) + rng.normal(0, 0.01, (40, 140)),
            rng.normal(0, 1, (60, 140)),
        ]
    ).astype(np.float32)
    ids = [f"s{i}" for i in range(100)]
    xr.Dataset(
        {
            "flux": (("spectrum", "window_wavelength"), flux),
            "valid": ("spectrum", np.ones(100, bool)),
        },
        coords={"id": ("spectrum", as_strings(ids))},
    ).to_zarr(tmp_path / "window.zarr", consolidated=False)
    confidence = np.concatenate([np.full(40, 0.34), rng.uniform(0.4, 0.6, 60)])
    table = pd.DataFrame(
        {
            "id": ids,
            "predicted": "other",
            "probability": confidence,
            "p_other": confidence,
            "p_single_peak": (1 - confidence) / 2,
            "p_double_peak": (1 - confidence) / 2,
        }
    )
    table.to_parquet(tmp_path / "predictions.parquet")
    pd.DataFrame({"id": ["s99"], "label": ["other"]}).to_parquet(tmp_path / "training.parquet")
    copies = {}
    for name, extra in {
        "plain": [],
        "diverse": ["--set", "query.diversity.enabled=true"],
    }.items():
        ask(
            tmp_path,
            f"{name}.parquet",
            *("--set", "query.strategy=least_confidence", "--set", "query.batch_size=6"),
            *("--window", tmp_path / "window.zarr", "--set", "query.diversity.shortlist=10"),
            *extra,
        )
        asked = pd.read_parquet(tmp_path / f"{name}.parquet")["id"].tolist()
        assert len(set(asked)) == 6 and "s99" not in asked
        copies[name] = sum(int(i[1:]) < 40 for i in asked)
    assert copies == {"plain": 6, "diverse": 1}


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("query.estimate_sample=100000", "query.estimate_sample: 100000 exceeds the 300 spectra"),
        ("query.estimate_sample=-1", "query.estimate_sample"),
        ("classes_of_interest=[]", "classes_of_interest"),
    ],
)
def test_an_estimate_sample_that_cannot_be_drawn_is_one_line_naming_the_key(
    tmp_path, setting, said
):
    """Larger than what is left to ask, negative, or nothing of interest to estimate:
    refused before anything is asked."""
    p = np.random.default_rng(3).dirichlet([1, 1, 1], 300)
    prediction_table(p).to_parquet(tmp_path / "predictions.parquet")
    pd.DataFrame(columns=["id", "label"]).to_parquet(tmp_path / "training.parquet")
    refused = run_alspec(
        "query", "--predictions", tmp_path / "predictions.parquet",
        "--training-set", tmp_path / "training.parquet", "--set", setting,
        "--set", "query.discovery.sources=[]", "--out", tmp_path / "q.parquet",
        "--candidates", tmp_path / "c.parquet", check=False,
    )  # fmt: skip
    lines = refused.stderr.strip().splitlines()  # a config error: a heading, then its line
    assert refused.returncode == 1 and len(lines) <= 2 and said in lines[-1]
    assert not (tmp_path / "q.parquet").exists()
