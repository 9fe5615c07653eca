"""Oracles answer a query batch. Asking (`push`) and answering (`pull`) are separate
steps because a person may take days; `pull` raises `BatchIncomplete` until every
spectrum of the batch has an answer, and keeps the answers already given.

Backends: `simulated` (answers from a truth table) and `labelstudio` (a person
answers in Label Studio). Each takes the query batch and returns a receipt on push;
pull turns the receipt into a label table (see `alspec.labels`).
"""

from __future__ import annotations


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
