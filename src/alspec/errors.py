"""The errors a user can cause and mend: the CLI prints them as one line (the message
names the key, file or row), where anything else shows its traceback.

Each is also the built-in exception it refines (a ConfigError is a ValueError), so code
that catches the built-in still catches it.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user gave or runs cannot be used as it is; the message says what."""


class ConfigError(UserError, ValueError):
    """A configuration that does not satisfy the schema, its cross-field rules, or what a
    step needs of it; names the key."""


class InputError(UserError, ValueError):
    """An input file, table or query that cannot be used; names the file, row or column."""


class MissingInput(UserError, FileNotFoundError):
    """An input that is not there (yet); names it."""


class LabelError(InputError):
    """An answer that is not one of the configured classes; names the spectrum."""


class ReconciliationError(UserError, RuntimeError):
    """The shards do not account for every input file: something was lost."""


class Unavailable(UserError, RuntimeError):
    """A server (Label Studio, a Dask scheduler, a SAMP hub) cannot be reached or refuses;
    the message says how to bring it up."""


class WorkflowFailed(UserError, RuntimeError):
    """A workflow run that `alspec watch` started failed: the message says which."""


class BatchIncomplete(RuntimeError):
    """Some spectra of a batch have no answer yet: not a failure, the run goes on once
    they are labelled (the CLI exits 3)."""

    def __init__(self, answered: int, total: int, where: str) -> None:
        super().__init__(
            f"{answered} of {total} labelled: label the rest at {where}, then run again"
        )
        self.answered, self.total = answered, total
