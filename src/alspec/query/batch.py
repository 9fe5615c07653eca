"""Which spectra to ask the oracle about: uncertainty sampling plus a measuring sample.

Each iteration asks the k spectra with the highest score of the query strategy
(entropy by default, FR11; see alspec.query.strategies), a stratified random sample of
the rest whose answers measure the catalogue's precision and completeness (FR12,
alspec.query.sampling), and optionally a random sample of the whole pool (FR13).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alspec.errors import InputError
from alspec.query.sampling import draw, population
from alspec.query.strategies import COMMITTEE, diverse, scores
from alspec.vocabulary import (
    BATCH_COLUMNS,
    COLD_START,
    CONFIRMED,
    ESTIMATE_SAMPLE,
    INTEREST,
    POOL_SAMPLE,
    PREDICTED,
    REQUESTED,
    UNCERTAIN,
    UNSURE,
    probability_columns,
)

# A batch's picks: (the eligible rows of the predictions table, how many) -> the rows chosen.
Pick = Callable[[pd.DataFrame, int], pd.DataFrame]


def top_scores(table: pd.DataFrame, size: int) -> pd.DataFrame:
    """The `size` rows with the highest score, best first."""
    return table.nlargest(size, "score")


def diverse_scores(features: Callable[[list[str]], np.ndarray], shortlist: int, seed: int) -> Pick:
    """A `pick` that spreads the batch over different-looking spectra (strategies.diverse);
    `features(ids)` gives the rows compared, e.g. their windows."""

    def pick(table: pd.DataFrame, size: int) -> pd.DataFrame:
        best = top_scores(table, shortlist * size)
        if len(best) <= size:
            return best
        chosen = diverse(
            best["score"].to_numpy(), features(list(best["id"])), size, shortlist, seed
        )
        return best.iloc[chosen]

    return pick


def random_rows(table: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    """`size` rows drawn without replacement, in table order."""
    return table.iloc[np.sort(rng.choice(len(table), min(size, len(table)), replace=False))]


def select_batch(
    predictions: pd.DataFrame,
    exclude: Collection[str],
    classes_of_interest: Collection[str],
    batch_size: int,
    estimate_sample_size: int,
    rng: np.random.Generator,
    pick: Pick = top_scores,
    pool_sample_size: int = 0,
    requested: Sequence[str] = (),
) -> pd.DataFrame:
    """The query batch (BATCH_COLUMNS) from `predictions` with a `score` column (the
    query strategy's, higher asked first) and INTEREST (the probability of a class of
    interest).

    The spectra a user `requested` (alspec explore) come first, in their order and
    within `batch_size`; `pick` chooses the rest of `batch_size` (the best scores, or a
    diverse set of good ones; a pick may name its rows' `reason`, else they are
    UNCERTAIN). The estimate sample is then drawn from every spectrum not chosen
    (alspec.query.sampling: stratified, each draw's `stratum` and `inclusion`
    probability recorded), so that its answers with the chosen ones' measure the whole
    catalogue; the optional pool sample (FR13) from what is left. Spectra in `exclude`
    (answered, held out) are never asked. The rows `pick` sees are shuffled, so that
    ties in the score are broken at random (by `rng`), never by file order.
    """
    pool = predictions.loc[~predictions["id"].isin(set(exclude))]
    wanted = pool.set_index("id", drop=False).reindex(list(dict.fromkeys(requested)))
    wanted = wanted.dropna(subset=["id"]).iloc[:batch_size]
    unasked = pool.loc[~pool["id"].isin(set(wanted["id"]))]
    ranked = pick(unasked.iloc[rng.permutation(len(unasked))], batch_size - len(wanted))
    reasons = ranked["reason"] if "reason" in ranked else pd.Series(None, ranked.index, object)
    rest = unasked.drop(ranked.index)
    estimate = estimate_sample(rest, classes_of_interest, estimate_sample_size, rng)
    rest = rest.loc[~rest["id"].isin(set(estimate["id"]))]
    pool_sample = random_rows(rest, pool_sample_size, rng)
    batch = pd.concat(
        [
            wanted.reset_index(drop=True).assign(reason=REQUESTED),
            ranked.assign(reason=reasons.fillna(UNCERTAIN)),
            estimate.reset_index(drop=True).assign(reason=ESTIMATE_SAMPLE),
            pool_sample.assign(reason=POOL_SAMPLE),
        ],
        ignore_index=True,
    )
    return batch.reindex(columns=list(BATCH_COLUMNS))


def estimate_sample(
    rest: pd.DataFrame,
    classes_of_interest: Collection[str],
    size: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """`size` rows of `rest` drawn by the estimate sample's design (alspec.query.sampling),
    each with its `stratum` and `inclusion` probability."""
    if not size:
        return rest.iloc[:0].assign(stratum=None, inclusion=np.nan)
    candidate = rest["predicted"].isin(set(classes_of_interest)).to_numpy()
    sampled = draw(
        population(rest["id"].to_numpy(), rest[INTEREST].to_numpy(), candidate), size, rng
    )
    return (
        rest.set_index("id", drop=False)
        .loc[sampled["id"]]
        .assign(stratum=sampled["stratum"].to_numpy(), inclusion=sampled["inclusion"].to_numpy())
    )


def cold_start_batch(ids: Sequence[str]) -> pd.DataFrame:
    """Iteration 0's batch: the spectra `ids`, no prediction yet."""
    return pd.DataFrame(
        {
            "id": np.asarray(ids, dtype=object),
            "score": 0.0,
            "reason": COLD_START,
            "predicted": None,
            "probability": np.nan,
        }
    ).reindex(columns=list(BATCH_COLUMNS))


def random_batch(ids: Sequence[str], size: int, rng: np.random.Generator) -> pd.DataFrame:
    """A cold-start batch: `size` spectra drawn at random from the pool (FR5)."""
    chosen = np.sort(rng.choice(len(ids), min(size, len(ids)), replace=False))
    return cold_start_batch(np.asarray(ids, dtype=object)[chosen])


def chosen_batch(chosen: Sequence[str], usable: Collection[str], source: str) -> pd.DataFrame:
    """A cold-start batch of the spectra a user chose (FR7); each must be in the pool
    with a usable window, else the error names the ids that are not."""
    unknown = [i for i in chosen if i not in usable]
    if unknown:
        raise InputError(
            f"{source}: {len(unknown)} id(s) not in the pool or without a usable window,"
            f" e.g. {unknown[:5]}"
        )
    return cold_start_batch(list(dict.fromkeys(chosen)))


def pool_scores(
    predictions: pd.DataFrame,
    strategy: str,
    classes: Sequence[str],
    rng: np.random.Generator,
    source: str | Path = "predictions",
) -> np.ndarray:
    """The query `strategy`'s score of every row of `predictions` (higher asked first):
    from its class probabilities, or a committee's, scored by the predict step."""
    if strategy in COMMITTEE:
        if strategy not in predictions:
            raise InputError(
                f"{source}: no {strategy} scores; predict with a committee"
                " (query.committee: dropout passes of the CNN, or scikit-learn models)"
            )
        return predictions[strategy].to_numpy()
    return scores(strategy, predictions[probability_columns(classes)].to_numpy(), rng)


def candidates(
    predictions: pd.DataFrame,
    answers: pd.DataFrame,
    classes_of_interest: Collection[str],
    held_out: Collection[str] = (),
) -> pd.DataFrame:
    """The catalogue a user hands over (seed 002): every spectrum whose latest answer
    (`answers`: `id`, `label`) is a class of interest, and every unanswered one (neither
    answered nor `held_out`; "unsure" counts as unanswered) that `predictions` (`id`,
    `predicted`, `probability`) put in one: `id`, `label`, `probability`, `source`."""
    interest = set(classes_of_interest)
    sure = answers.loc[answers["label"] != UNSURE].drop_duplicates("id", keep="last")
    confirmed = sure.loc[sure["label"].isin(interest), ["id", "label"]]
    predicted = predictions.loc[
        predictions["predicted"].isin(interest)
        & ~predictions["id"].isin(set(sure["id"]) | set(held_out)),
        ["id", "predicted", "probability"],
    ].rename(columns={"predicted": "label"})
    return pd.concat(
        [predicted.assign(source=PREDICTED), confirmed.assign(probability=1.0, source=CONFIRMED)],
        ignore_index=True,
    )
