"""Classifying the pool block by block, in parts, with one model or a committee."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alspec.io import concatenate_tables
from alspec.learning.inference import part_rows, predict_pool
from alspec.learning.learners import LEARNERS
from alspec.query import strategies

from conftest import run_alspec

CLASSES = ["other", "single_peak", "double_peak"]


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def linear_model(windows: np.ndarray) -> np.ndarray:
    """A fixed classifier: the window's values at three pixels, as logits."""
    return softmax(windows[:, [20, 70, 120]].astype(np.float64))


def linear_committee(windows: np.ndarray) -> np.ndarray:
    """Five members: the linear model at five temperatures."""
    logits = windows[:, [20, 70, 120]].astype(np.float64)
    return np.stack([softmax(logits * t) for t in (0.5, 1, 2, 3, 4)])


@pytest.mark.parametrize("n, parts", [(10_000, 3), (1000, 7), (64, 2), (0, 2)])
def test_parts_cover_every_row_once_in_whole_blocks(n, parts):
    slices = [part_rows(n, part, parts, block_size=64) for part in range(parts)]
    covered = np.concatenate([np.arange(s.start, s.stop) for s in slices])
    np.testing.assert_array_equal(covered, np.arange(n))
    assert all(s.start % 64 == 0 or s.start == n for s in slices)
    with pytest.raises(ValueError, match="part 3 of 3"):
        part_rows(n, 3, 3, 64)


def test_parts_gathered_equal_one_job(pool, tmp_path):
    window = pool / "window.zarr"
    whole = tmp_path / "whole.parquet"
    n = predict_pool(linear_model, window, CLASSES, whole, block_size=32)
    parts = [tmp_path / f"{part}.parquet" for part in range(3)]
    for part, out in enumerate(parts):
        predict_pool(linear_model, window, CLASSES, out, block_size=32, part=part, parts=3)
    assert concatenate_tables(parts, tmp_path / "gathered.parquet") == n
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "gathered.parquet"), pd.read_parquet(whole)
    )


def test_a_committee_stores_its_consensus_and_every_committee_score(pool, tmp_path):
    out = tmp_path / "committee.parquet"
    predict_pool(linear_committee, pool / "window.zarr", CLASSES, out, block_size=50)
    table = pd.read_parquet(out)
    from alspec.pool.store import open_store

    window = open_store(pool / "window.zarr")
    members = linear_committee(window.flux.values[window.valid.values])
    p = table[[f"p_{c}" for c in CLASSES]].to_numpy()
    np.testing.assert_allclose(p, members.mean(0), rtol=1e-6)
    assert (table["members"] == 5).all()
    for name, score in strategies.COMMITTEE.items():
        np.testing.assert_allclose(table[name], score(members), rtol=1e-6, atol=1e-9)


def test_the_query_step_asks_what_the_committee_disagrees_on(pool, tmp_path):
    predictions = tmp_path / "committee.parquet"
    predict_pool(linear_committee, pool / "window.zarr", CLASSES, predictions, block_size=50)
    pd.DataFrame({"id": [], "label": []}).to_parquet(tmp_path / "none.parquet")

    def query(strategy: str, source=predictions):
        return run_alspec(
            "query",
            "--predictions",
            source,
            "--training-set",
            tmp_path / "none.parquet",
            *("--set", f"query.strategy={strategy}", "--set", "query.batch_size=5"),
            *("--set", "query.estimate_sample=0", "--set", "query.discovery.sources=[]"),
            "--out",
            tmp_path / "q.parquet",
            "--candidates",
            tmp_path / "c.parquet",
            check=False,
        )

    assert query("bald").returncode == 0
    batch = pd.read_parquet(tmp_path / "q.parquet")
    table = pd.read_parquet(predictions)
    assert set(batch["id"]) == set(table.nlargest(5, "bald")["id"])
    single = tmp_path / "single.parquet"
    predict_pool(linear_model, pool / "window.zarr", CLASSES, single, block_size=50)
    refused = query("vote_entropy", single)
    assert refused.returncode == 1 and "no vote_entropy scores" in refused.stderr


def test_a_model_given_the_wrong_store_says_which_it_reads(pool, tmp_path):
    with pytest.raises(
        ValueError, match=r"window.zarr: a scikit-learn model reads a features store"
    ):
        predict_pool(
            linear_model,
            pool / "window.zarr",
            CLASSES,
            tmp_path / "p.parquet",
            64,
            learner=LEARNERS["random_forest"],
        )
    assert not (tmp_path / "p.parquet").exists()
