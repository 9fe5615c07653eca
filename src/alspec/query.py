"""Which spectra to ask the oracle about: uncertainty sampling plus a random check.

Each iteration asks the k spectra with the highest score of the query strategy
(entropy by default, FR11; see alspec.strategies), a random sample of the candidates,
the spectra predicted in a class of interest, whose answers estimate how reliable the
candidates are (FR12), and optionally a random sample of the whole pool (FR13).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alspec.strategies import diverse

logger = logging.getLogger(__name__)

UNCERTAIN, RANDOM, POOL_SAMPLE, COLD_START = "uncertain", "random", "pool_random", "cold_start"
TOP_RANKED = "top_ranked"  # anomaly mode: the top of the ranking, not yet answered


def probability_columns(classes: Sequence[str]) -> list[str]:
    return [f"p_{c}" for c in classes]


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
) -> pd.DataFrame:
    """The query batch: `id`, `score`, `reason`, `predicted`, `probability`, from
    `predictions` with a `score` column (the query strategy's, higher asked first).

    The random sample of candidates is drawn from all unanswered candidates first, so
    that it is an unbiased sample of what the model would hand over; the pool sample
    from every other unanswered spectrum; `pick` then chooses `batch_size` of the rest
    (the best scores, or a diverse set of good ones; a pick may name its rows' `reason`,
    else they are UNCERTAIN). Spectra in `exclude` (answered, held out) are never asked.
    The rows `pick` sees are shuffled, so that ties in the score are broken at random
    (by `rng`), never by file order.
    """
    pool = predictions.loc[~predictions["id"].isin(set(exclude))]
    candidates = pool.loc[pool["predicted"].isin(set(classes_of_interest))]
    random_sample = random_rows(candidates, random_sample_size, rng)
    rest = pool.drop(random_sample.index)
    pool_sample = random_rows(rest, pool_sample_size, rng) if pool_sample_size else rest.iloc[:0]
    unasked = rest.drop(pool_sample.index)
    ranked = pick(unasked.iloc[rng.permutation(len(unasked))], batch_size)
    reasons = ranked["reason"] if "reason" in ranked else pd.Series(None, ranked.index, object)
    batch = pd.concat(
        [
            ranked.assign(reason=reasons.fillna(UNCERTAIN)),
            random_sample.assign(reason=RANDOM),
            pool_sample.assign(reason=POOL_SAMPLE),
        ],
        ignore_index=True,
    )
    return batch[["id", "score", "reason", "predicted", "probability"]]


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
        raise ValueError(
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
    from alspec.strategies import COMMITTEE, scores

    if strategy in COMMITTEE:
        if strategy not in predictions:
            raise ValueError(
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
        [predicted.assign(source="predicted"), confirmed.assign(probability=1.0, source="oracle")],
        ignore_index=True,
    )


def choose_batch(
    *,
    predictions: str | Path,
    training_set: str | Path,
    out: Path,
    candidates_out: Path,
    settings: Mapping[str, Any],
    iteration: int = 0,
    window: str | Path | None = None,
    features: str | Path | None = None,
    anomaly_scores: str | Path | None = None,
    held_out: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The query step: from the pool's `predictions`, the batch to ask (config `query`:
    the strategy's best, spread over different-looking `window`s with `diversity`, mixed
    with discovery's sources over `features` and `anomaly_scores` while a class of
    interest is scarce, a random sample of the candidates and of the pool), never one
    already answered (`training_set`) or `held_out`; and the candidates. Iteration n
    draws with seed query.seed + n. Writes both; returns (batch, candidates)."""
    from alspec.io import read_table, write_table
    from alspec.pool import select

    query, interest = settings["query"], settings["classes_of_interest"]
    seed = query["seed"] + iteration
    columns = probability_columns(settings["classes"])
    table = read_table(predictions, required=("id", "predicted", *columns))
    answered = read_table(training_set, required=("id", "label"))
    rng = np.random.default_rng(seed)
    table["score"] = pool_scores(table, query["strategy"], settings["classes"], rng, predictions)
    pick = top_scores
    if query["diversity"]["enabled"]:
        if window is None:
            raise ValueError("query.diversity: give the pool's window store")

        def windows(ids: list[str]) -> np.ndarray:
            return np.nan_to_num(select([window], ids).flux.values)

        pick = diverse_scores(windows, query["diversity"]["shortlist"], seed)
    if query["discovery"]["sources"]:
        pick = _with_discovery(pick, query, interest, answered, features, anomaly_scores, seed=seed)
    never = set(answered["id"])
    if held_out:
        never |= set(read_table(held_out, required=("id", "label"))["id"])
    batch = select_batch(
        table,
        never,
        interest,
        query["batch_size"],
        query["random_sample_size"],
        rng,
        pick,
        query["pool_sample_size"],
    )
    found = candidates(table, answered, interest)
    write_table(batch, out)
    write_table(found, candidates_out)
    return batch, found


def _with_discovery(
    exploit: Pick,
    query: Mapping[str, Any],
    interest: Sequence[str],
    answered: pd.DataFrame,
    features: str | Path | None,
    anomaly_scores: str | Path | None,
    seed: int,
) -> Pick:
    """The batch's pick with discovery's sources (query.discovery) mixed in while a class
    of interest is scarce; only the sources the plan asks anything of read the pool."""
    from alspec import discovery
    from alspec.io import read_table
    from alspec.pool import open_store

    settings = query["discovery"]
    if not features:
        raise ValueError("query.discovery.sources: give the pool's features store")
    if "anomaly" in settings["sources"] and not anomaly_scores:
        raise ValueError("query.discovery.sources anomaly: give alspec detect's anomaly scores")
    plan = discovery.plan_batch(
        answered,
        exploit_reason=UNCERTAIN,
        sources=settings["sources"],
        classes_of_interest=interest,
        min_examples=settings["min_examples"],
        max_share=settings["max_share"],
        batch_size=query["batch_size"],
    )
    arms = ", ".join(
        f"{arm} {a['asked']} ({a['hits']} hits in {a['picks']})" for arm, a in plan["arms"].items()
    )
    logger.info(f"discovery: scarcity {plan['scarcity']:.2f}; asked: {arms}")
    counts = discovery.explored(plan, UNCERTAIN)
    if not counts:
        return exploit
    sources = discovery.pool_sources(
        list(counts),
        features=open_store(features),
        anomaly_scores=read_table(anomaly_scores) if anomaly_scores else None,
        prior=settings["prior"],
        labelled=set(answered["id"]),
        seed=seed,
    )
    return discovery.mixed_pick(counts, sources, exploit)


def first_batch(
    *,
    window: str | Path,
    out: Path,
    settings: Mapping[str, Any],
    ids: Path | None = None,
    held_out: str | Path | None = None,
) -> pd.DataFrame:
    """The cold-start step: the first batch, initial.size spectra drawn at random from the
    pool's classifiable windows with initial.seed (FR5), or the spectra listed in `ids`
    (a file, one id a line; FR7); never one of the `held_out` set. Writes and returns it."""
    from alspec.io import read_table, write_table
    from alspec.pool import open_store

    initial = settings["initial"]
    data = open_store(window)
    usable = data.id.values[data.valid.values]
    if held_out:
        usable = usable[~np.isin(usable, read_table(held_out, required=("id", "label"))["id"])]
    if ids:
        lines = (line.strip() for line in ids.read_text().splitlines())
        wanted = [line for line in lines if line and not line.startswith("#")]
        batch = chosen_batch(wanted, set(usable), str(ids))
    else:
        batch = random_batch(usable, initial["size"], np.random.default_rng(initial["seed"]))
    write_table(batch, out)
    return batch
