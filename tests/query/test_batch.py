"""Uncertainty sampling, the estimate sample beside it, and the candidate list."""

from __future__ import annotations

import numpy as np
import pandas as pd

from alspec.pool.store import open_store
from alspec.query.batch import candidates, random_batch, select_batch
from alspec.query.strategies import entropy

from conftest import run_alspec


def test_entropy_in_bits():
    p = np.array([[1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(entropy(p), [np.log2(3), 0.0, 1.0], atol=1e-9)


def predictions(n: int, rng: np.random.Generator) -> pd.DataFrame:
    p = rng.dirichlet([1, 1, 1], n)
    names = np.array(["other", "single_peak", "double_peak"])
    return pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(n)],
            "predicted": names[p.argmax(1)],
            "probability": p.max(1),
            "entropy": entropy(p),
            "score": entropy(p),
            "p_interest": p[:, 1:].sum(1),
        }
    )


def test_batch_is_most_uncertain_plus_an_estimate_sample(rng):
    table = predictions(500, rng)
    answered = set(table.nlargest(10, "entropy")["id"])
    batch = select_batch(table, answered, ["single_peak", "double_peak"], 20, 16, rng)
    assert list(batch.columns) == [
        "id", "score", "reason", "predicted", "probability", "stratum", "inclusion"
    ]  # fmt: skip
    assert batch["id"].is_unique and not set(batch["id"]) & answered
    uncertain = batch[batch["reason"] == "uncertain"]
    sample = batch[batch["reason"] == "estimate"]
    assert len(uncertain) == 20 and len(sample) == 16
    assert uncertain["stratum"].isna().all() and uncertain["inclusion"].isna().all()
    assert sample["stratum"].notna().all() and sample["inclusion"].between(0, 1).all()
    assert sample["predicted"].isin(["single_peak", "double_peak"]).sum() == 8, "half candidates"
    rest = table[~table["id"].isin(answered)]
    assert uncertain["score"].min() >= rest.nlargest(20, "entropy")["entropy"].min()
    assert (np.diff(uncertain["score"]) <= 0).all(), "most uncertain first"


def test_a_random_sample_of_the_whole_pool_can_come_too(rng):
    table = predictions(500, rng)
    interest = ["single_peak", "double_peak"]
    batch = select_batch(table, [], interest, 20, 16, rng, pool_sample_size=15)
    assert batch["reason"].value_counts().to_dict() == {
        "uncertain": 20,
        "estimate": 16,
        "pool_random": 15,
    }
    assert batch["id"].is_unique
    sample = batch.loc[batch["reason"] == "pool_random", "predicted"]
    assert not sample.isin(interest).all(), "drawn from every prediction, not the candidates"


def test_each_spectrum_is_drawn_with_the_probability_its_row_records(rng):
    """Spectra the strategy nearly chose can be drawn too, each as often as its recorded
    inclusion probability says: the estimates' weights are the design's."""
    table = predictions(600, rng)
    interest = ["single_peak", "double_peak"]
    draws = 300
    drawn = pd.concat(
        select_batch(table, [], interest, 50, 30, np.random.default_rng(s)).query(
            "reason == 'estimate'"
        )
        for s in range(draws)
    )
    assert drawn["stratum"].nunique() >= 3
    per_spectrum = drawn.groupby("id").agg(times=("id", "size"), inclusion=("inclusion", "first"))
    spread = drawn.groupby("id")["inclusion"].agg(lambda p: p.max() - p.min())
    assert (spread == 0).all(), "one design per spectrum"
    recorded = per_spectrum["inclusion"]
    error = np.sqrt(recorded * (1 - recorded) / draws)
    assert (np.abs(per_spectrum["times"] / draws - recorded) < 5 * error + 1e-9).all()


def test_small_pools_ask_what_there_is(rng):
    table = predictions(5, rng)
    batch = select_batch(table, [], ["single_peak"], 100, 100, rng)
    assert sorted(batch["id"]) == sorted(table["id"])


def test_cold_start_batch(rng):
    batch = random_batch([f"s{i}" for i in range(50)], 10, rng)
    assert len(batch) == 10 and batch["id"].is_unique
    assert (batch["reason"] == "cold_start").all() and batch["predicted"].isna().all()


def test_the_user_can_choose_the_first_batch(pool, tmp_path):
    ids = list(open_store(pool / "window.zarr").id.values)

    def cold_start(name: str, lines: str):
        (tmp_path / f"{name}.txt").write_text(lines)
        return run_alspec(
            "cold-start",
            "--window",
            pool / "window.zarr",
            "--ids",
            tmp_path / f"{name}.txt",
            "--out",
            tmp_path / f"{name}.parquet",
            check=False,
        )

    result = cold_start("mine", f"# my Be star suspects\n{ids[5]}\n{ids[2]}\n\n{ids[5]}\n")
    assert "cold start: 2 spectra to label" in result.stdout
    batch = pd.read_parquet(tmp_path / "mine.parquet")
    assert batch["id"].tolist() == [ids[5], ids[2]] and (batch["reason"] == "cold_start").all()
    result = cold_start("bad", f"{ids[0]}\nno-such-star\n")
    assert result.returncode == 1 and "1 id(s) not in the pool" in result.stderr
    assert "no-such-star" in result.stderr and not (tmp_path / "bad.parquet").exists()


def test_candidates_include_what_the_oracle_confirmed():
    table = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "predicted": ["single_peak", "other", "double_peak", "single_peak"],
            "probability": [0.9, 0.8, 0.7, 0.6],
        }
    )
    labels = pd.DataFrame({"id": ["d", "e"], "label": ["other", "double_peak"]})
    found = candidates(table, labels, ["single_peak", "double_peak"]).set_index("id")
    assert set(found.index) == {"a", "c", "e"}
    assert found.loc["e", "source"] == "oracle" and found.loc["a", "source"] == "predicted"
