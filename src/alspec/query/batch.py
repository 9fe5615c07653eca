"""Which spectra to ask the oracle about: uncertainty sampling plus a random check.

Each iteration asks the k spectra with the highest score of the query strategy
(entropy by default, FR11; see alspec.query.strategies), a random sample of the candidates,
the spectra predicted in a class of interest, whose answers estimate how reliable the
candidates are (FR12), and optionally a random sample of the whole pool (FR13).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from alspec.errors import InputError
from alspec.query.strategies import COMMITTEE, diverse, scores
from alspec.vocabulary import (
    BATCH_COLUMNS,
    CANDIDATE_SAMPLE,
    COLD_START,
    CONFIRMED,
    POOL_SAMPLE,
    PREDICTED,
    REQUESTED,
    UNCERTAIN,
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
    random_sample_size: int,
    rng: np.random.Generator,
    pick: Pick = top_scores,
    pool_sample_size: int = 0,
    requested: Sequence[str] = (),
) -> pd.DataFrame:
    """The query batch: `id`, `score`, `reason`, `predicted`, `probability`, from
    `predictions` with a `score` column (the query strategy's, higher asked first).

    The random sample of candidates is drawn from all unanswered candidates first, so
    that it is an unbiased sample of what the model would hand over; the pool sample
    from every other unanswered spectrum; `pick` then chooses `batch_size` of the rest
    (the best scores, or a diverse set of good ones; a pick may name its rows' `reason`,
    else they are UNCERTAIN). The spectra a user `requested` (alspec explore) come before
    the pick, in their order and within `batch_size`, the pick filling the rest; one
    drawn in a random sample stays there, so the samples stay unbiased. Spectra in
    `exclude` (answered, held out) are never asked. The rows `pick` sees are shuffled, so
    that ties in the score are broken at random (by `rng`), never by file order.
    """
    pool = predictions.loc[~predictions["id"].isin(set(exclude))]
    candidates = pool.loc[pool["predicted"].isin(set(classes_of_interest))]
    random_sample = random_rows(candidates, random_sample_size, rng)
    rest = pool.drop(random_sample.index)
    pool_sample = random_rows(rest, pool_sample_size, rng) if pool_sample_size else rest.iloc[:0]
    unasked = rest.drop(pool_sample.index)
    wanted = unasked.set_index("id", drop=False).reindex(list(dict.fromkeys(requested)))
    wanted = wanted.dropna(subset=["id"]).iloc[:batch_size]
    unasked = unasked.loc[~unasked["id"].isin(set(wanted["id"]))]
    ranked = pick(unasked.iloc[rng.permutation(len(unasked))], batch_size - len(wanted))
    reasons = ranked["reason"] if "reason" in ranked else pd.Series(None, ranked.index, object)
    batch = pd.concat(
        [
            wanted.reset_index(drop=True).assign(reason=REQUESTED),
            ranked.assign(reason=reasons.fillna(UNCERTAIN)),
            random_sample.assign(reason=CANDIDATE_SAMPLE),
            pool_sample.assign(reason=POOL_SAMPLE),
        ],
        ignore_index=True,
    )
    return batch[list(BATCH_COLUMNS)]


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
    )


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
    predictions: pd.DataFrame, labels: pd.DataFrame, classes_of_interest: Collection[str]
) -> pd.DataFrame:
    """Spectra predicted in a class of interest and not yet answered, plus those the
    oracle confirmed in one (seed 002): `id`, `label`, `probability`, `source`."""
    interesting = set(classes_of_interest)
    answered = set(labels["id"])
    predicted = predictions.loc[
        predictions["predicted"].isin(interesting) & ~predictions["id"].isin(answered),
        ["id", "predicted", "probability"],
    ].rename(columns={"predicted": "label"})
    confirmed = labels.loc[labels["label"].isin(interesting), ["id", "label"]]
    return pd.concat(
        [predicted.assign(source=PREDICTED), confirmed.assign(probability=1.0, source=CONFIRMED)],
        ignore_index=True,
    )
