"""The oracle: push a batch, pull its answers, merge every answer so far, watch for them."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec.cli.common import (
    call_step,
    command,
    counts,
    held_out_option,
    settings_options,
    step_settings,
)


def _oracle_options(p: argparse.ArgumentParser, pushing: bool) -> None:
    p.add_argument("--query", type=Path, required=True)
    p.add_argument("--batch", required=True, help="name of the batch, e.g. iterations/2")
    p.add_argument("--receipt", type=Path, required=True, help="what push recorded (JSON)")
    if pushing:
        p.add_argument("--window", type=Path, help="window store (labelstudio: shown on the page)")
        p.add_argument("--pool", type=Path, help="pool folder (labelstudio: whole spectra shown)")
    else:
        p.add_argument("--truth", type=Path, help="truth table (simulated backend)")
        p.add_argument(
            "--catalogue", type=Path, help="the pool's label catalogue, to add the answers to"
        )
        p.add_argument("--out", type=Path, required=True)
    settings_options(p, "push" if pushing else "pull")


@command("push", "send a query batch to the oracle", lambda p: _oracle_options(p, pushing=True))
def run_push(args: argparse.Namespace) -> None:
    from alspec.oracles.steps import push

    settings = step_settings(args)
    size = call_step(push, args, settings=settings)
    backend = settings["oracle"]["backend"]
    print(f"push: {size} spectra of batch {args.batch} sent to the {backend} oracle")


@command("pull", "collect the oracle's answers to a batch", lambda p: _oracle_options(p, False))
def run_pull(args: argparse.Namespace) -> None:
    from alspec.oracles.steps import pull

    answers, size = call_step(pull, args)
    print(f"pull: {len(answers)} answers to batch {args.batch}")
    if size is not None:
        print(f"pull: the label catalogue {args.catalogue} holds {size} answers")


def _training_set_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "tables", nargs="*", type=Path, metavar="labels", help="label tables, oldest first"
    )
    held_out_option(p)
    p.add_argument("--out", type=Path, required=True)
    settings_options(p, "training-set")


@command(
    "training-set",
    "merge label tables; a later answer replaces an earlier one",
    _training_set_options,
)
def run_training_set(args: argparse.Namespace) -> None:
    from alspec.oracles.steps import training_set

    merged = call_step(training_set, args)
    print(f"training set: {len(merged)} labelled spectra: {counts(merged['label'])}")


def _watch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--configfile",
        type=Path,
        nargs="+",
        default=[Path("config/config.yaml")],
        help="the workflow's config file(s), later ones overriding (passed on to Snakemake)",
    )
    p.add_argument(
        "--snakemake",
        default="snakemake --profile profiles/default",
        help="how to run the workflow, e.g. 'snakemake --profile profiles/slurm'",
    )
    p.add_argument("--poll", type=float, default=30, help="seconds between checks")
    p.add_argument("--port", type=int, default=0, help="webhook receiver's port (0: any free)")
    p.add_argument("--token-file", type=Path, help="default: oracle.labelstudio.token_file")


@command("watch", "wait for each batch to be labelled, then run the next iteration", _watch_options)
def run_watch(args: argparse.Namespace) -> None:
    from alspec.oracles.steps import watch

    call_step(watch, args)
