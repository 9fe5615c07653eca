"""The query stage's steps, one per command: `cold_start` asks the first batch, `query`
the batch of each iteration after it (workflow/rules/query.smk)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alspec.errors import InputError, MissingInput
from alspec.io import read_table, write_table
from alspec.pool.store import open_store, select
from alspec.query import discovery
from alspec.query.batch import (
    Pick,
    candidates,
    chosen_batch,
    diverse_scores,
    pool_scores,
    random_batch,
    select_batch,
    top_scores,
)
from alspec.vocabulary import INTEREST, UNCERTAIN, interest_probability, probability_columns

logger = logging.getLogger(__name__)


def query(
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
    requested: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The query step: from the pool's `predictions`, the batch to ask (config `query`:
    the strategy's best, spread over different-looking `window`s with `diversity`, mixed
    with discovery's sources over `features` and `anomaly_scores` while a class of
    interest is scarce, the estimate sample and the pool sample), never one
    already answered (`training_set`) or `held_out`; and the candidates. Iteration n
    draws with seed query.seed + n. Writes both; returns (batch, candidates)."""
    chosen, interest = settings["query"], settings["classes_of_interest"]
    seed = chosen["seed"] + iteration
    columns = probability_columns(settings["classes"])
    table = read_table(predictions, required=("id", "predicted", *columns))
    answered = read_table(training_set, required=("id", "label"))
    rng = np.random.default_rng(seed)
    table["score"] = pool_scores(table, chosen["strategy"], settings["classes"], rng, predictions)
    table[INTEREST] = interest_probability(table, interest)
    pick = (
        diverse_pick(chosen["diversity"], window, seed)
        if chosen["diversity"]["enabled"]
        else top_scores
    )
    if chosen["discovery"]["sources"]:
        pick = with_discovery(pick, chosen, interest, answered, features, anomaly_scores, seed=seed)
    kept_out = set(read_table(held_out, required=("id", "label"))["id"]) if held_out else set()
    never = set(answered["id"]) | kept_out
    check_sample_size(chosen, len(table) - table["id"].isin(never).sum(), predictions)
    batch = select_batch(
        table,
        never,
        interest,
        chosen["batch_size"],
        chosen["estimate_sample"],
        rng,
        pick,
        chosen["pool_sample_size"],
        requested_ids(requested, table, never) if requested else (),
    )
    found = candidates(table, answered, interest, kept_out)
    write_table(batch, out)
    write_table(found, candidates_out)
    return batch, found


def check_sample_size(chosen: Mapping[str, Any], unanswered: int, source: str | Path) -> None:
    """The samples must fit in what is left to ask: else one line naming the key,
    before anything is asked."""
    for key in ("estimate_sample", "pool_sample_size"):
        if chosen[key] > unanswered:
            raise InputError(
                f"query.{key}: {chosen[key]} exceeds the {unanswered} spectra of {source}"
                " not yet answered or held out"
            )


def requested_ids(requested: str | Path, predictions: pd.DataFrame, never: set) -> list[str]:
    """The ids a user asked for (alspec explore's request file) that can be asked: the
    others are named in the log and left out."""
    ids = list(dict.fromkeys(read_table(requested, required=("id",))["id"]))
    unknown = [i for i in ids if i not in set(predictions["id"])]
    answered = [i for i in ids if i in never]
    for what, left in (("not in the pool", unknown), ("answered or held out", answered)):
        if left:
            logger.warning(f"{requested}: {len(left)} requested id(s) {what}, e.g. {left[:5]}")
    usable = [i for i in ids if i not in set(unknown) | set(answered)]
    logger.info(f"{requested}: {len(usable)} requested spectra asked first")
    return usable


def diverse_pick(diversity: Mapping[str, Any], window: str | Path | None, seed: int) -> Pick:
    """The strategy's best spread over different-looking windows (query.diversity)."""
    if window is None:
        raise MissingInput("query.diversity: give the pool's window store")

    def windows(ids: list[str]) -> np.ndarray:
        return np.nan_to_num(select([window], ids).flux.values)

    return diverse_scores(windows, diversity["shortlist"], seed)


def with_discovery(
    exploit: Pick,
    chosen: Mapping[str, Any],
    interest: Sequence[str],
    answered: pd.DataFrame,
    features: str | Path | None,
    anomaly_scores: str | Path | None,
    seed: int,
) -> Pick:
    """The batch's pick with discovery's sources (config query.discovery, in `chosen`)
    mixed in while a class of interest is scarce; only the sources the plan asks
    anything of read the pool."""
    settings = chosen["discovery"]
    if not features:
        raise MissingInput("query.discovery.sources: give the pool's features store")
    if "anomaly" in settings["sources"] and not anomaly_scores:
        raise MissingInput("query.discovery.sources anomaly: give alspec detect's anomaly scores")
    plan = discovery.plan_batch(
        answered,
        exploit_reason=UNCERTAIN,
        sources=settings["sources"],
        classes_of_interest=interest,
        min_examples=settings["min_examples"],
        max_share=settings["max_share"],
        batch_size=chosen["batch_size"],
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


def cold_start(
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
