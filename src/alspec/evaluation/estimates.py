"""How good is the catalogue? Its precision and completeness, estimated with intervals.

The catalogue of an iteration is what a user would hand over once its batch is
answered: every spectrum answered in a class of interest, plus every unanswered one the
model predicts in one. Its precision A / |catalogue| and completeness A / Y need A, the
objects of interest it holds, and Y, those in the whole pool. The answered part of both
is known; the rest is estimated from the estimate sample (alspec.query.sampling), a
stratified random sample of the spectra the strategy did not choose, each drawn with a
known probability.

In each stratum h (N_h spectra, n_h answered draws, q the model's probability of
interest) the total of objects of interest is estimated with the model-assisted
difference estimator (Särndal, Swensson & Wretman 1992, ch. 6)

    T_h = sum_{i in h} q_i + N_h / n_h * sum_{i in sample h} (y_i - q_i),

unbiased whatever q is (q is fixed before the draw; a good q only makes it precise),
with the variance of stratified sampling without replacement,

    V_h = N_h^2 (1 - n_h / N_h) s_h^2 / n_h,   s_h^2 the sample variance of y - q.

The strata are independent, so the variances add. Precision is linear in the candidate
strata's totals, so its interval is theirs; completeness A / Y falls as Y grows, so its
interval runs from A's lower bound over Y's upper one to A's upper bound over Y's lower
one (Y no less than A): conservative, and well-behaved where a first-order expansion is
not, when Y is uncertain by more than itself. The intervals are normal ones, clipped to
[0, 1]: valid as each stratum's sample grows (a central limit theorem for stratified
sampling), which is
why an estimate needs two answered draws in every stratum and one found object of
interest before it is given, and an interval no wider than ±WIDEST, else it is "not
measurable yet". A stratum whose draws found nothing is not taken to be empty: its
variance is at least that of Jeffreys' estimate of its rate, (found + 1/2) / (n_h + 1), as
the model's q is least reliable exactly where it says "nothing here" (on the hard
survey 82 emitters the model missed sat among 76,000 spectra whose q summed to 0.4).
The objects of interest in the pool do not change between iterations, so each
iteration's estimate of their number is averaged with the earlier ones (equal weights,
fixed in advance: the average stays unbiased) and the completeness narrows as the
samples accumulate. "unsure" answers are left out of their stratum's draws (treated as
missing at random within it).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from alspec.errors import InputError
from alspec.evaluation.metrics import binomial_interval
from alspec.query.sampling import population
from alspec.vocabulary import CONFIRMED, ESTIMATE_SAMPLE, INTEREST, POOL_SAMPLE, UNSURE

NOT_MEASURABLE = "not measurable yet"
# An interval wider than ±WIDEST says too little to be given as an estimate.
WIDEST = 0.25


def stratum_totals(population: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """Per stratum of `population` (`id`, `q`, `candidate`, `stratum`): its size, the
    answered draws of the estimate sample in it (`answers`: `id`, `interest`: bool,
    `drawn`: bool, one row per id answered, "unsure" left out), the objects of interest
    found, the estimated total of objects of interest among its spectra still
    unanswered (`unknown`: the stratum's estimated total less those answered) and that
    total's variance."""
    joined = population.merge(answers[["id", "interest", "drawn"]], on="id", how="inner")
    joined["residual"] = joined["interest"].astype(float) - joined["q"]
    rows = []
    for name, members in population.groupby("stratum", sort=True):
        answered = joined.loc[joined["stratum"] == name]
        drawn = answered.loc[answered["drawn"]]
        size, n = len(members), len(drawn)
        total = float(members["q"].sum()) + size * (float(drawn["residual"].mean()) if n else 0)
        spread = (
            max(float(drawn["residual"].var(ddof=1)), _least_spread(drawn)) if n > 1 else np.nan
        )
        if n == size:  # every spectrum drawn: the total is known
            total, spread = float(drawn["interest"].sum()), 0.0
        variance = size**2 * (1 - n / size) * spread / n if n == size or n > 1 else np.nan
        rows.append(
            {
                "stratum": name,
                "candidate": bool(members["candidate"].iloc[0]),
                "size": size,
                "draws": n,
                "found": int(drawn["interest"].sum()),
                "expected": float(members["q"].sum()),
                "unknown": total - float(answered["interest"].sum()),
                "variance": variance,
            }
        )
    return pd.DataFrame(rows)


def _least_spread(drawn: pd.DataFrame) -> float:
    """A floor under a stratum's variance: p (1 - p) with p = (found + 1/2) / (draws + 1),
    Jeffreys' estimate. A stratum of 70,000 where 20 draws found nothing may still hold
    hundreds of objects of interest the model misses: its sample variance (all y = 0)
    would call the stratum's total certain; the floor keeps the interval honest."""
    p = (float(drawn["interest"].sum()) + 0.5) / (len(drawn) + 1)
    return p * (1 - p)


def catalogue_estimates(
    totals: pd.DataFrame,
    *,
    known_interest: int,
    catalogue_size: int,
    confidence: float,
    earlier: Sequence[Mapping[str, float]] = (),
) -> dict[str, dict]:
    """The catalogue's precision and completeness with `confidence` intervals, and the
    objects of interest in the pool, from `stratum_totals` and what is known:
    `known_interest` spectra answered of interest (all in the catalogue) and the
    catalogue's size (those plus the unanswered candidates).

    The objects of interest in the whole pool, Y, do not change from one iteration to
    the next: each earlier iteration's own estimate of it (`earlier`: `in_pool`,
    `variance`), unbiased for its own sample, is averaged with this one's, so the
    completeness A / Y gets more precise as the samples accumulate. The weights are
    equal, fixed before any answer, so the average stays unbiased."""
    z = float(norm.ppf(0.5 + confidence / 2))
    candidate = totals["candidate"]
    in_catalogue = known_interest + float(totals.loc[candidate, "unknown"].sum())
    var_in = float(totals.loc[candidate, "variance"].sum())
    measured = totals["variance"].notna()  # two draws, or every spectrum drawn
    unsampled = list(totals.loc[~measured, "stratum"])
    why = f"fewer than two answered draws in {', '.join(unsampled)}" if unsampled else None
    own = {
        "in_pool": in_catalogue + float(totals.loc[~candidate, "unknown"].sum()),
        "variance": var_in + float(totals.loc[~candidate, "variance"].sum()),
    }
    samples = [*earlier, own] if not why else list(earlier)
    pool, var_pool = _averaged(samples)
    bounds = in_catalogue + z * np.sqrt(var_in) * np.array([-1, 1])
    precision = (
        _interval(in_catalogue / catalogue_size, bounds / catalogue_size)
        if catalogue_size and measured[candidate].all()
        else _unmeasured(why or "the catalogue is empty")
    )
    if not why and known_interest and pool > 0:
        # A / Y falls as Y grows: the bounds of A and Y give the bounds of the share,
        # well-behaved where the delta method is not (Y uncertain by more than itself);
        # Y is at least the objects of interest the catalogue holds
        everything = np.maximum(pool + z * np.sqrt(var_pool) * np.array([-1, 1]), bounds)
        completeness = _interval(in_catalogue / max(pool, in_catalogue), bounds / everything[::-1])
    else:
        completeness = _unmeasured(why or "no object of interest found yet")
    return {
        "precision": precision,
        "completeness": completeness,
        "objects_of_interest": {
            "in_catalogue": in_catalogue,
            "in_pool": float(pool) if samples else None,
            "standard_error": float(np.sqrt(var_pool)) if samples else None,
            "samples": samples,
        },
        "confidence": confidence,
    }


def _averaged(samples: Sequence[Mapping[str, float]]) -> tuple[float, float]:
    """The mean of the iterations' estimates of the pool's objects of interest, with
    equal weights, and its variance (the estimates' errors are uncorrelated: each is
    unbiased given the ones before)."""
    k = len(samples)
    if not k:
        return np.nan, np.nan
    return sum(s["in_pool"] for s in samples) / k, sum(s["variance"] for s in samples) / k**2


def _interval(value: float, bounds: np.ndarray) -> dict:
    """The estimate and its interval (`bounds`), clipped to [0, 1]; one wider than
    ±WIDEST is kept aside (`unsupported`) and the estimate called not measurable yet."""
    low, high = np.clip(bounds, 0, 1)
    estimate = {"estimate": float(np.clip(value, 0, 1)), "interval": [float(low), float(high)]}
    if high - low <= 2 * WIDEST:
        return estimate
    why = f"interval [{low:.2f}, {high:.2f}] wider than +/-{WIDEST}"
    return _unmeasured(why) | {"unsupported": estimate}


def _unmeasured(why: str) -> dict:
    return {"estimate": None, "interval": None, "why": why}


def new_per_hundred(
    picks: pd.DataFrame, interest: set[str], confidence: float
) -> Mapping[str, object]:
    """How many objects of interest the next 100 labels are expected to add to the
    catalogue: this batch's strategy picks (`label`, `predicted`) that the model had
    left out and the oracle answered of interest, per 100 picks, with a Clopper-Pearson
    interval (the next batch is chosen the same way from a slightly smaller pool)."""
    added = picks["label"].isin(interest) & ~picks["predicted"].isin(interest)
    n, k = len(picks), int(added.sum())
    low, high = binomial_interval(k, n, confidence)
    return {
        "picks": n,
        "added": k,
        "per_hundred": 100 * k / n if n else None,
        "interval": [100 * low, 100 * high] if n else None,
    }


def catalogue_quality(
    predictions: pd.DataFrame,
    *,
    members: pd.DataFrame,
    before: pd.DataFrame,
    held_out: Collection[str],
    batch: pd.DataFrame,
    answers: pd.DataFrame,
    classes_of_interest: Collection[str],
    confidence: float,
    earlier: Sequence[Mapping[str, float]] = (),
    source: str = "query",
) -> dict[str, Any]:
    """How good the catalogue (`members`: alspec.query.batch.candidates once the batch
    is answered) is: from the iteration's `predictions` (`id`, `predicted`, INTEREST),
    the answers it trained on (`before`: `id`, `label`), the `held_out` ids, its `batch`
    (BATCH_COLUMNS, from `source`), the batch's `answers` (`id`, `label`, `reason`,
    `predicted`), and the earlier iterations' estimates of the pool's objects of
    interest (`earlier`, see catalogue_estimates)."""
    interest = set(classes_of_interest)
    sure = answers.loc[answers["label"] != UNSURE].drop_duplicates("id", keep="last")
    chosen = set(batch.loc[~batch["reason"].isin({ESTIMATE_SAMPLE, POOL_SAMPLE}), "id"])
    totals = sample_totals(
        predictions,
        never=set(before["id"]) | set(held_out) | chosen,
        drawn=batch.loc[batch["reason"] == ESTIMATE_SAMPLE],
        answers=sure,
        interest=interest,
        source=source,
    )
    answered = int((members["source"] == CONFIRMED).sum())
    estimates = catalogue_estimates(
        totals,
        known_interest=answered,
        catalogue_size=len(members),
        confidence=confidence,
        earlier=earlier,
    )
    picks = sure.loc[sure["id"].isin(chosen)]
    return {
        "size": len(members),
        "answered": answered,
        "predicted": len(members) - answered,
        **estimates,
        "sample": {
            "size": int((batch["reason"] == ESTIMATE_SAMPLE).sum()),
            "answered": int(totals["draws"].sum()) if len(totals) else 0,
            "found": int(totals["found"].sum()) if len(totals) else 0,
            "strata": totals.replace({np.nan: None}).to_dict("records"),
        },
        "next_hundred": new_per_hundred(picks, interest, confidence),
    }


def sample_totals(
    predictions: pd.DataFrame,
    *,
    never: set[str],
    drawn: pd.DataFrame,
    answers: pd.DataFrame,
    interest: set[str],
    source: str,
) -> pd.DataFrame:
    """`stratum_totals` of the population the estimate sample was `drawn` from: every
    spectrum of `predictions` but those in `never` (answered before, held out, chosen by
    the strategy), with the batch's `answers` (`id`, `label`), "unsure" left out."""
    eligible = predictions.loc[~predictions["id"].isin(never)]
    sampled = population(
        eligible["id"].to_numpy(),
        eligible[INTEREST].to_numpy(),
        eligible["predicted"].isin(interest).to_numpy(),
    )
    check_design(sampled, drawn, source)
    known = pd.DataFrame(
        {
            "id": answers["id"],
            "interest": answers["label"].isin(interest),
            "drawn": answers["id"].isin(set(drawn["id"])),
        }
    )
    return stratum_totals(sampled, known)


def check_design(sampled: pd.DataFrame, drawn: pd.DataFrame, source: str) -> None:
    """The batch's draws must be those of the strata the predictions give (stratum and
    inclusion probability), else the predictions changed after the query: one line."""
    if drawn.empty:
        return
    strata = sampled.set_index("id")["stratum"]
    sizes = strata.value_counts()
    found = strata.reindex(drawn["id"])
    expected = drawn["stratum"].map(drawn["stratum"].value_counts()) / drawn["stratum"].map(sizes)
    wrong = (
        found.isna().to_numpy()
        | (found.to_numpy() != drawn["stratum"].to_numpy())
        | ~np.isclose(expected.to_numpy(dtype=float), drawn["inclusion"].to_numpy(dtype=float))
    )
    if wrong.any():
        raise InputError(
            f"{source}: {int(wrong.sum())} estimate-sample draw(s), e.g."
            f" {list(drawn['id'][wrong][:3])}, do not match the strata of these predictions"
            " (were they made again after the query?)"
        )
