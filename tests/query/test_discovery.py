"""Discovery: each source on a pool where its signal is known, the bandit's shares, the
fade once the classes are found, random tie-breaking in the batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from alspec.anomaly.detectors import detector_scores
from alspec.features.matrix import prepared
from alspec.io import as_strings
from alspec.pool.store import open_store
from alspec.query import discovery
from alspec.query.batch import select_batch, top_scores
from alspec.vocabulary import UNCERTAIN

INTEREST = ["single_peak", "double_peak"]


@pytest.fixture(scope="module")
def features(tmp_path_factory) -> xr.Dataset:
    """A features store of 600 spectra in three tight groups of PCA scores (one of 300
    around the origin, two of 150 further out); spectrum 17's Hα equivalent width is
    -30 Å (emission), every other's 0 to 2 Å (absorption); spectrum 5 lies far off."""
    rng = np.random.default_rng(0)
    centres = np.repeat([[0, 0, 0], [8, 0, 0], [0, 8, 0]], [300, 150, 150], axis=0)
    pca = centres + rng.normal(0, 0.5, (600, 3))
    pca[5] = [30, 30, 30]
    ew = rng.uniform(0, 2, (600, 1))
    ew[17] = -30
    ids = as_strings([f"s{i:03d}" for i in range(600)])
    store = xr.Dataset(
        {
            "pca": (("spectrum", "component"), pca.astype(np.float32)),
            "ew": (("spectrum", "line"), ew.astype(np.float32)),
        },
        coords={"id": ("spectrum", ids), "line": as_strings(["halpha"])},
    )
    path = tmp_path_factory.mktemp("features") / "features.zarr"
    store.to_zarr(path, consolidated=False)
    return open_store(path)


def ids_of(features: xr.Dataset) -> np.ndarray:
    return np.array([str(i) for i in features.id.values], dtype=object)


def table(ids) -> pd.DataFrame:
    """The eligible rows of a predictions table: everything the sources need is `id`."""
    return pd.DataFrame({"id": list(ids), "score": 0.0})


def test_the_anomaly_source_asks_the_outlier_first(features):
    ids = ids_of(features)
    score = detector_scores(prepared(features.pca.values), "isolation_forest", 0, 20)
    sources = discovery.pool_sources(
        ["anomaly"],
        features=features,
        anomaly_scores=pd.DataFrame({"id": ids, "score": score}),
        prior=None,
        labelled=set(),
        seed=0,
    )
    pool = table(ids)
    assert pool.loc[sources["anomaly"](pool, 3), "id"].iloc[0] == "s005"


def test_the_prior_source_asks_the_planted_emitter_first(features):
    prior = {"feature": "ew", "line": "halpha", "order": "ascending"}
    sources = discovery.pool_sources(
        ["prior"], features=features, anomaly_scores=None, prior=prior, labelled=set(), seed=0
    )
    pool = table(ids_of(features))
    assert pool.loc[sources["prior"](pool, 1), "id"].tolist() == ["s017"]
    descending = discovery.pool_sources(
        ["prior"],
        features=features,
        anomaly_scores=None,
        prior=prior | {"order": "descending"},
        labelled=set(),
        seed=0,
    )
    assert "s017" not in pool.loc[descending["prior"](pool, 10), "id"].tolist()


def test_a_prior_naming_an_unmeasured_line_is_an_error(features):
    with pytest.raises(ValueError, match="no ew of line 'hbeta'"):
        discovery.pool_sources(
            ["prior"],
            features=features,
            anomaly_scores=None,
            prior={"feature": "ew", "line": "hbeta", "order": "ascending"},
            labelled=set(),
            seed=0,
        )


def test_the_typical_source_asks_the_groups_without_labels(features):
    ids = ids_of(features)
    labelled = {f"s{i:03d}" for i in range(10)}  # all in the first group
    sources = discovery.pool_sources(
        ["typical"], features=features, anomaly_scores=None, prior=None, labelled=labelled, seed=0
    )
    pool = table([i for i in ids if i not in labelled])
    picked = pool.loc[sources["typical"](pool, 2), "id"]
    rows = [int(i[1:]) for i in picked]
    pca = features.pca.values
    # the two unlabelled groups, one pick each, near each group's centre
    assert sorted(r >= 450 for r in rows) == [False, True] and all(r >= 300 for r in rows)
    for row in rows:
        group = slice(300, 450) if row < 450 else slice(450, 600)
        assert np.linalg.norm(pca[row] - pca[group].mean(axis=0)) < 0.6


def test_shares_move_toward_the_source_that_finds_the_class():
    counts = {UNCERTAIN: (0, 50), "anomaly": (0, 25), "typical": (1, 25), "prior": (12, 25)}
    shares = discovery.shares(counts, UNCERTAIN, scarce=1.0, max_share=0.8)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["prior"] > 4 * shares["anomaly"] and shares["prior"] > shares["typical"]
    assert shares[UNCERTAIN] == pytest.approx(0.2), "the sources' share is capped"
    batch = discovery.allocate(shares, 100)
    assert sum(batch.values()) == 100 and batch["prior"] == max(batch.values())
    untried = discovery.shares(
        {arm: (0, 0) for arm in counts}, UNCERTAIN, scarce=1.0, max_share=0.8
    )
    assert untried[UNCERTAIN] == pytest.approx(0.25) and untried["prior"] == pytest.approx(0.25)


def test_discovery_fades_once_every_class_has_min_examples():
    labels = pd.Series(["other"] * 50 + ["single_peak"] * 10 + ["double_peak"] * 4)
    assert discovery.scarcity(labels, INTEREST, 10) == pytest.approx(0.6)
    assert discovery.scarcity(pd.Series(["other"] * 5), INTEREST, 10) == 1.0
    found = pd.Series(["other"] * 50 + ["single_peak"] * 10 + ["double_peak"] * 12)
    assert discovery.scarcity(found, INTEREST, 10) == 0.0
    counts = {UNCERTAIN: (1, 50), "prior": (20, 25)}
    assert discovery.shares(counts, UNCERTAIN, 0.0, 0.8) == {UNCERTAIN: 1.0, "prior": 0.0}
    half = discovery.shares(counts, UNCERTAIN, 0.5, 0.8)
    assert half["prior"] == pytest.approx(0.4)


def test_each_pick_says_which_source_chose_it(features):
    ids = ids_of(features)
    answers = pd.DataFrame({"id": ids[100:140], "label": "other", "reason": "cold_start"})
    prior = {"feature": "ew", "line": "halpha", "order": "ascending"}
    sources = discovery.pool_sources(
        ["prior"], features=features, anomaly_scores=None, prior=prior, labelled=set(), seed=0
    )
    plan = discovery.plan_batch(
        answers,
        exploit_reason=UNCERTAIN,
        sources=["prior"],
        classes_of_interest=INTEREST,
        min_examples=10,
        max_share=0.8,
        batch_size=10,
    )
    pick = discovery.mixed_pick(discovery.explored(plan, UNCERTAIN), sources, top_scores)
    predictions = pd.DataFrame(
        {"id": ids, "predicted": "other", "probability": 1.0, "score": np.arange(600.0)}
    )
    batch = select_batch(
        predictions, set(answers["id"]), INTEREST, 10, 0, np.random.default_rng(0), pick
    )
    assert plan["arms"]["prior"]["asked"] == 5 and plan["scarcity"] == 1.0
    assert batch.loc[batch["reason"] == "prior", "id"].iloc[0] == "s017"
    uncertain = batch.loc[batch["reason"] == UNCERTAIN, "id"]
    assert len(uncertain) == 5 and set(uncertain) == {f"s{i}" for i in range(595, 600)}


def test_ties_in_the_score_are_broken_at_random_never_by_file_order():
    n = 200
    score = np.where(np.arange(n) < 150, 0.0, np.linspace(1, 2, n))  # 150 tied at the bottom
    score[np.arange(n) >= 150] = np.linspace(1, 2, 50)
    predictions = pd.DataFrame(
        {
            "id": [f"s{i:03d}" for i in range(n)],
            "predicted": "other",
            "probability": 1.0,
            "score": score,
        }
    )

    def asked(seed: int) -> list[str]:
        batch = select_batch(predictions, set(), INTEREST, 60, 0, np.random.default_rng(seed))
        return list(batch["id"])

    one, two = asked(1), asked(2)
    untied = {f"s{i:03d}" for i in range(150, 200)}
    assert set(one) & untied == set(two) & untied == untied, "the best 50 in both"
    assert set(one) - untied != set(two) - untied, "the 10 of the tied differ"
    assert set(one) - untied != {f"s{i:03d}" for i in range(10)}, "not the first in the file"
    assert asked(1) == one, "the same seed, the same batch"
