"""Oracles answer a query batch. Asking (`push`) and answering (`pull`) are separate
steps because a person may take days; `pull` raises `BatchIncomplete` until every
spectrum of the batch has an answer, and keeps the answers already given.

Backends: `simulated` (answers from a truth table) and `labelstudio` (a person
answers in Label Studio). Each takes the query batch and returns a receipt on push;
pull turns the receipt into a label table (see `alspec.labels`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


class BatchIncomplete(RuntimeError):
    """Some spectra of the batch have no answer yet."""

    def __init__(self, answered: int, total: int, where: str) -> None:
        super().__init__(
            f"{answered} of {total} labelled: label the rest at {where}, then run again"
        )
        self.answered, self.total = answered, total


class OracleUnavailable(RuntimeError):
    """The oracle cannot be reached; the message says how to bring it up."""


BACKENDS = ("simulated", "labelstudio")


def push_batch(
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
    from alspec.config import answers
    from alspec.io import read_table, write_json

    asked = read_table(query, required=("id", "score", "reason", "predicted"))
    oracle = settings["oracle"]
    if oracle["backend"] == "simulated":
        from alspec.oracles import simulated

        sent = simulated.push(asked, batch)
    else:
        from alspec.oracles import labelstudio

        if window is None or pool is None:
            raise ValueError("push: the labelstudio oracle needs the window store and the pool")
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


def pull_batch(
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
    from alspec import labels
    from alspec.config import answers as allowed
    from alspec.io import read_json, read_table, write_table

    asked = read_table(query, required=("id", "score", "reason", "predicted"))
    sent, oracle = read_json(receipt), settings["oracle"]
    if sent["backend"] != oracle["backend"]:
        raise ValueError(
            f"{receipt}: the batch was pushed to {sent['backend']}, "
            f"not {oracle['backend']}: push it again"
        )
    if oracle["backend"] == "simulated":
        from alspec.oracles import simulated

        if truth is None:
            raise ValueError("pull: the simulated oracle needs the truth table (oracle.truth)")
        relevance_of = (
            settings["anomaly"]["relevance_of"] if settings["mode"] == "anomaly" else None
        )
        answered = simulated.pull(asked, truth, batch, relevance_of)
    else:
        from alspec.oracles import labelstudio

        answered = labelstudio.pull(
            sent, asked, allowed(settings), oracle["labelstudio"]["token_file"]
        )
    labels.check(answered, allowed(settings), f"answers to batch {batch}")
    write_table(answered, out)
    size = None
    if catalogue:
        size = labels.record(answered, catalogue, oracle["labelstudio"]["project"])
    return answered, size
