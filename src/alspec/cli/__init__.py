"""`alspec <step>`: one command per workflow step, so every rule also runs by hand.

A command parses its options, calls its stage's step (alspec.<stage>.steps) and prints
a summary; one module per stage, as in workflow/rules/. Settings and their defaults come
from the configuration schema, so a step run by hand behaves as it does in the workflow.
A command imports its stage's steps when it runs, not before: importing every stage
would load TensorFlow, scikit-learn and Dask for any command, `alspec --help` included
(7 s against 0.6 s here).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback

from alspec.cli.common import COMMANDS
from alspec.errors import BatchIncomplete, UserError
from alspec.runtime.native_notices import native_notices_dropped

# Each stage's module registers its commands, in the order `alspec --help` lists them.
STAGES = (
    "config", "survey", "pool", "features", "query", "oracles", "learning", "anomaly",
    "evaluation", "report", "handover", "explorer",
)  # fmt: skip
for stage in STAGES:
    importlib.import_module(f"alspec.cli.{stage}")


class _StdoutHandler(logging.StreamHandler):
    """The library's log lines on the current stdout, in order with the step's summary."""

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stdout)
        super().emit(record)


def show_log(level: int) -> None:
    """The alspec library's messages from `level` up, as plain lines on stdout."""
    library = logging.getLogger("alspec")
    if not any(isinstance(h, _StdoutHandler) for h in library.handlers):
        library.addHandler(_StdoutHandler())
    library.setLevel(level)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="alspec", description=__doc__.splitlines()[0])
    loudness = top.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    loudness.add_argument("-v", "--verbose", action="store_true", help="debug messages too")
    steps = top.add_subparsers(dest="step", required=True, metavar="<step>")
    for name, (run, options, help_text) in COMMANDS.items():
        sub = steps.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        options(sub)
        sub.set_defaults(run=run)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command. An error the user can mend (alspec.errors.UserError: a config key,
    an input file, a label, SQL, a server) is one line naming it, and exit 1; with -v its
    traceback too. Anything else is a bug: Python shows its traceback. TensorFlow's
    harmless C++ notices are dropped (alspec.runtime.native_notices)."""
    args = parser().parse_args(argv)
    show_log(logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO)
    try:
        with native_notices_dropped():
            args.run(args)
    except KeyboardInterrupt:
        print(f"alspec {args.step}: stopped", file=sys.stderr)
        return 130
    except BatchIncomplete as incomplete:
        print(f"alspec {args.step}: {incomplete}", file=sys.stderr)
        return 3
    except (UserError, FileNotFoundError) as error:  # a path that is not there names it
        if args.verbose:
            traceback.print_exc()
        print(f"alspec {args.step}: error: {error}", file=sys.stderr)
        return 1
    return 0
