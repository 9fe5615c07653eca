"""The catalogue's precision and completeness from the estimate sample: unbiased, with
intervals that cover, on a synthetic pool whose answer is known."""

import numpy as np
import pandas as pd
import pytest

from alspec.errors import InputError
from alspec.evaluation.estimates import (
    catalogue_estimates,
    catalogue_quality,
    check_design,
    stratum_totals,
)
from alspec.query.sampling import MINIMUM_DRAWS, SPREAD_FLOOR, allocate, draw, population

KNOWN = 60  # objects of interest answered before the sample: all in the catalogue


def synthetic_pool(miscalibrated: bool, seed: int = 3, size: int = 12_000) -> pd.DataFrame:
    """A pool after some iterations: the model's probability of interest `q` and the
    truth `y`, drawn from q itself or, `miscalibrated`, from a model that misses weak
    objects (twice as many as q says among the unlikely ones)."""
    rng = np.random.default_rng(seed)
    q = 1 / (1 + np.exp(-rng.normal(-6.5, 2.5, size)))
    rate = np.clip(q * (2 - q), 0, 1) if miscalibrated else q
    table = population(np.array([f"s{i}" for i in range(size)]), q, q > 0.5)
    return table.assign(y=rng.random(size) < rate)


def one_sample(pool: pd.DataFrame, size: int, seed: int) -> tuple[dict, dict]:
    """Estimates from one draw of the design, and the truth of the catalogue after it."""
    sample = draw(pool, size, np.random.default_rng(seed))
    answers = pd.DataFrame({"id": sample["id"], "interest": pool.loc[sample.index, "y"]})
    totals = stratum_totals(pool, answers.assign(drawn=True))
    found = KNOWN + int(answers["interest"].sum())
    unanswered = pool.drop(sample.index)
    catalogue = found + int(unanswered["candidate"].sum())
    estimates = catalogue_estimates(
        totals, known_interest=found, catalogue_size=catalogue, confidence=0.95
    )
    held = found + int((unanswered["candidate"] & unanswered["y"]).sum())
    everything = KNOWN + int(pool["y"].sum())
    truth = {
        "precision": held / catalogue,
        "completeness": held / everything,
        "pool": everything,
        "held": held,
    }
    return estimates, truth


def interval(estimate: dict) -> list[float]:
    """The interval given, or the one kept aside as too wide to be an estimate."""
    return estimate["interval"] or estimate["unsupported"]["interval"]


@pytest.mark.parametrize("miscalibrated", [False, True])
def test_the_estimates_are_unbiased_and_their_intervals_cover(miscalibrated):
    """Over many draws of the design: the estimated objects of interest in the catalogue
    and in the pool are within their standard error of the truth on average, whatever
    the model's calibration (the difference estimator's promise), and the 95 % intervals
    of precision and completeness cover the truth at least at about the nominal rate."""
    pool = synthetic_pool(miscalibrated)
    draws = [one_sample(pool, 60, seed) for seed in range(300)]
    in_pool = np.array([e["objects_of_interest"]["in_pool"] for e, _ in draws])
    assert abs(in_pool.mean() - draws[0][1]["pool"]) < 3 * in_pool.std() / np.sqrt(len(draws))
    held = np.array([e["objects_of_interest"]["in_catalogue"] - t["held"] for e, t in draws])
    assert abs(held.mean()) < 3 * held.std() / np.sqrt(len(draws))
    for name in ("precision", "completeness"):
        covered = np.mean(
            [interval(e[name])[0] <= t[name] <= interval(e[name])[1] for e, t in draws]
        )
        assert covered >= 0.9, f"{name}: {covered:.2f} of the 95 % intervals cover"


def test_the_sample_is_allocated_where_it_informs():
    pool = synthetic_pool(False)
    draws = allocate(pool, 60)
    sizes = pool.groupby("stratum").size()
    assert draws.sum() == 60 and (draws >= MINIMUM_DRAWS).all() and (draws <= sizes).all()
    assert draws.filter(like="candidate").sum() == 30, "half to the candidates"
    # the rest by Neyman's rule on the spread the model expects
    others = pool.loc[~pool["candidate"]].groupby("stratum")["q"]
    weight = others.size() * np.sqrt(others.apply(lambda q: np.mean(q * (1 - q))) + SPREAD_FLOOR)
    assert draws[weight.index].idxmax() == weight.idxmax()
    assert (np.diff(draws[weight.sort_values().index]) >= -1).all(), "more weight, more draws"


def test_estimates_wait_for_answers():
    """Too few draws in a stratum, or nothing of interest found yet: not measurable."""
    pool = synthetic_pool(False, size=2_000)
    sample = draw(pool, 6, np.random.default_rng(0))
    answers = pd.DataFrame({"id": sample["id"], "interest": False, "drawn": True})
    estimates = catalogue_estimates(
        stratum_totals(pool, answers), known_interest=0, catalogue_size=10, confidence=0.95
    )
    completeness = estimates["completeness"]
    assert completeness["estimate"] is None and completeness["interval"] is None
    assert "fewer than two answered draws in other" in completeness["why"]
    nothing = stratum_totals(pool, answers.iloc[:0])
    estimates = catalogue_estimates(nothing, known_interest=3, catalogue_size=10, confidence=0.95)
    assert "fewer than two answered draws in candidate" in estimates["precision"]["why"]


def test_the_draws_must_match_the_predictions_they_came_from():
    pool = synthetic_pool(False, size=2_000)
    sample = draw(pool, 20, np.random.default_rng(0))
    check_design(pool, sample, "query.parquet")
    sample.loc[sample.index[0], "inclusion"] = 0.5
    with pytest.raises(InputError, match=r"query\.parquet: 1 estimate-sample draw"):
        check_design(pool, sample, "query.parquet")


def test_the_catalogue_counts_what_its_batch_answered():
    """Answered objects of interest join the catalogue, answered others leave it; the
    strategy's picks are known, not estimated."""
    predictions = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "predicted": ["single_peak", "single_peak", "other", "other", "other"],
            "probability": 0.9,
            "p_interest": [0.9, 0.8, 0.1, 0.2, 0.05],
        }
    )
    batch = pd.DataFrame(
        {"id": ["b", "d"], "reason": "uncertain", "stratum": None, "inclusion": np.nan}
    )
    answers = batch.assign(label=["other", "double_peak"], predicted=["single_peak", "other"])
    members = pd.DataFrame({"id": ["a", "d"], "source": ["predicted", "oracle"]})
    quality = catalogue_quality(
        predictions,
        members=members,
        before=pd.DataFrame(columns=["id", "label"]),
        held_out=(),
        batch=batch,
        answers=answers,
        classes_of_interest=["single_peak", "double_peak"],
        confidence=0.95,
    )
    assert (quality["size"], quality["answered"], quality["predicted"]) == (2, 1, 1)
    assert quality["next_hundred"]["added"] == 1 and quality["next_hundred"]["picks"] == 2
    assert quality["precision"]["estimate"] is None, "no draws: not measurable yet"


def test_a_stratum_drawn_whole_is_known_exactly():
    """A stratum of one candidate, drawn: its total is the answer, with no variance."""
    pool = population(np.array(["a", "b", "c", "d"]), np.array([0.95, 0.001, 0.002, 0.003]),
                      np.array([True, False, False, False]))  # fmt: skip
    answers = pd.DataFrame({"id": ["a", "b", "c"], "interest": [False, False, False],
                            "drawn": True})  # fmt: skip
    totals = stratum_totals(pool, answers).set_index("stratum")
    assert totals.loc["candidate 1", ["unknown", "variance"]].tolist() == [0.0, 0.0]
    estimates = catalogue_estimates(
        totals.reset_index(), known_interest=5, catalogue_size=5, confidence=0.95
    )
    assert estimates["precision"]["estimate"] == 1.0
    assert estimates["precision"]["interval"] == [1.0, 1.0]
