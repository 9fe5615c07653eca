"""The oracle stage's steps, one per command: `push` sends a batch to the oracle, `pull`
collects its answers, `training_set` merges every answer so far, `watch` runs the
workflow on as each batch is answered (workflow/rules/oracles.smk)."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from alspec import layout
from alspec.config.schema import load
from alspec.errors import ConfigError, MissingInput
from alspec.io import read_json, read_table, write_json, write_table
from alspec.oracles import simulated
from alspec.oracles.labels import check, merge, record
from alspec.oracles.watch import Workflow, run_until_done
from alspec.vocabulary import BATCH_COLUMNS, SAMPLE_COLUMNS, answers

logger = logging.getLogger(__name__)

# what the oracle needs of a batch: anomaly mode's lacks the probability and the
# estimate sample's columns
ASKED = tuple(c for c in BATCH_COLUMNS if c not in ("probability", *SAMPLE_COLUMNS))
BACKENDS = ("simulated", "labelstudio")  # config oracle.backend


def push(
    *,
    query: str | Path,
    batch: str,
    receipt: Path,
    settings: Mapping[str, Any],
    window: str | Path | None = None,
    pool: str | Path | None = None,
) -> int:
    """The push step: send the `query` batch named `batch` to config oracle.backend (a
    Label Studio project shows each spectrum's `window` and whole spectrum from the
    `pool`); write what was sent as the `receipt`. Returns the batch's size."""
    asked = read_table(query, required=ASKED)
    oracle = settings["oracle"]
    if oracle["backend"] == "simulated":
        sent = simulated.push(asked, batch)
    else:
        # the Label Studio SDK only where a batch goes to Label Studio: its import costs
        # about 1 s, every simulated push and pull of the demo would pay it
        from alspec.oracles import labelstudio

        if window is None or pool is None:
            raise MissingInput("push: the labelstudio oracle needs the window store and the pool")
        studio = oracle["labelstudio"]
        sky = studio["sky"] if studio["sky"]["enabled"] else None
        page = labelstudio.Page(window, pool, Path(studio["files"]), tuple(studio["metadata"]), sky)
        sent = labelstudio.push(
            asked,
            page,
            batch,
            studio["url"],
            studio["project"],
            studio["token_file"],
            answers(settings),
        )
    write_json(sent, receipt)
    return len(asked)


def pull(
    *,
    query: str | Path,
    batch: str,
    receipt: Path,
    out: Path,
    settings: Mapping[str, Any],
    truth: str | Path | None = None,
    catalogue: str | Path | None = None,
) -> tuple[pd.DataFrame, int | None]:
    """The pull step: the answers to `batch` from the oracle it was pushed to (raises
    BatchIncomplete until every spectrum has one), checked and written to `out`, and
    added to the pool's label `catalogue` under the session oracle.labelstudio.project.
    The simulated oracle answers from `truth` (in anomaly mode with the relevance of
    anomaly.relevance_of). Returns the answers and the catalogue's size."""
    asked = read_table(query, required=ASKED)
    sent, oracle = read_json(receipt), settings["oracle"]
    if sent["backend"] != oracle["backend"]:
        raise ConfigError(
            f"{receipt}: the batch was pushed to {sent['backend']}, "
            f"not {oracle['backend']}: push it again"
        )
    if oracle["backend"] == "simulated":
        if truth is None:
            raise MissingInput("pull: the simulated oracle needs the truth table (oracle.truth)")
        relevance_of = (
            settings["anomaly"]["relevance_of"] if settings["mode"] == "anomaly" else None
        )
        answered = simulated.pull(asked, truth, batch, relevance_of)
    else:
        from alspec.oracles import labelstudio  # the SDK: see push

        answered = labelstudio.pull(
            sent, asked, answers(settings), oracle["labelstudio"]["token_file"]
        )
    check(answered, answers(settings), f"answers to batch {batch}")
    write_table(answered, out)
    size = None
    if catalogue:
        size = record(answered, catalogue, oracle["labelstudio"]["project"])
    return answered, size


def training_set(
    *,
    tables: Sequence[str | Path],
    out: str | Path,
    settings: Mapping[str, Any],
    held_out: str | Path | None = None,
) -> pd.DataFrame:
    """The training-set step: the label `tables`, oldest first, merged (a later answer
    replaces an earlier one), each checked against the answers config allows; spectra of
    the `held_out` set left out. Writes and returns it."""
    read = [read_table(path, required=("id", "label")) for path in tables]
    for path, table in zip(tables, read, strict=True):
        check(table, answers(settings), str(path))
    merged = merge(read)
    if held_out:
        kept = ~merged["id"].isin(read_table(held_out, required=("id", "label"))["id"])
        if not kept.all():
            logger.info(f"training set: {int((~kept).sum())} spectra of the held-out set left out")
            merged = merged.loc[kept].reset_index(drop=True)
    write_table(merged, out)
    return merged


def watch(
    *,
    configfile: Sequence[Path],
    snakemake: str,
    poll: float,
    port: int = 0,
    token_file: Path | None = None,
    results: Path = Path(layout.RESULTS),
) -> None:
    """The watch step: wait for each batch of the workflow whose config is `configfile`
    (its results in `results`) to be labelled, then run `snakemake` on to the next batch,
    until the last iteration is done; Label Studio's webhook rings, or a poll every
    `poll` seconds (the token: `token_file`, default oracle.labelstudio.token_file)."""
    config = load(*configfile)
    workflow = Workflow(
        tuple(shlex.split(snakemake)),
        tuple(map(str, configfile)),
        results,
        config["iterations"],
    )
    run_until_done(
        workflow, token_file or config["oracle"]["labelstudio"]["token_file"], poll, port
    )
