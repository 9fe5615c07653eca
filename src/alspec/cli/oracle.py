"""The oracle: push a batch, pull its answers, watch for them."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec import config as cfg
from alspec.cli.common import (
    assignment,
    classes_option,
    command,
    enum_choices,
)
from alspec.io import read_json, read_table, write_json, write_table


def _oracle_options(p: argparse.ArgumentParser, pushing: bool) -> None:
    ls = cfg.default("oracle", "labelstudio")
    p.add_argument("--backend", choices=enum_choices("oracle.backend"), required=True)
    p.add_argument("--query", type=Path, required=True)
    p.add_argument("--batch", required=True, help="name of the batch, e.g. iterations/2")
    p.add_argument("--receipt", type=Path, required=True, help="what push recorded (JSON)")
    classes_option(p)
    p.add_argument("--token-file", type=Path, default=ls["token_file"])
    if pushing:
        p.add_argument("--window", type=Path, help="window store (labelstudio: shown on the page)")
        p.add_argument("--pool", type=Path, help="pool folder (labelstudio: whole spectra shown)")
        p.add_argument(
            "--metadata", nargs="+", default=ls["metadata"], help="catalogue columns shown"
        )
        p.add_argument("--url", default=ls["url"])
        p.add_argument("--project", default=ls["project"])
    else:
        p.add_argument("--truth", type=Path, help="truth table (simulated backend)")
        p.add_argument(
            "--relevance-of",
            nargs="+",
            type=assignment,
            metavar="CLASS=RELEVANCE",
            help="anomaly mode, simulated backend: answer each truth class's relevance",
        )
        p.add_argument(
            "--catalogue", type=Path, help="the pool's label catalogue, to add the answers to"
        )
        p.add_argument("--session", default=ls["project"], help="learning session's name")
        p.add_argument("--out", type=Path, required=True)


@command("push", "send a query batch to the oracle", lambda p: _oracle_options(p, pushing=True))
def run_push(args: argparse.Namespace) -> None:
    query = read_table(args.query, required=("id", "score", "reason", "predicted"))
    if args.backend == "simulated":
        from alspec.oracles import simulated

        receipt = simulated.push(query, args.batch)
    else:
        from alspec.oracles import labelstudio

        if args.window is None or args.pool is None:
            raise ValueError("push: the labelstudio oracle needs --window and --pool")
        page = labelstudio.Page(args.window, args.pool, tuple(args.metadata))
        receipt = labelstudio.push(
            query,
            page,
            args.batch,
            args.url,
            args.project,
            args.token_file,
            args.classes,
        )
    write_json(receipt, args.receipt)
    print(f"push: {len(query)} spectra of batch {args.batch} sent to the {args.backend} oracle")


@command("pull", "collect the oracle's answers to a batch", lambda p: _oracle_options(p, False))
def run_pull(args: argparse.Namespace) -> None:
    from alspec import labels

    query = read_table(args.query, required=("id", "score", "reason", "predicted"))
    receipt = read_json(args.receipt)
    if receipt["backend"] != args.backend:
        raise ValueError(
            f"{args.receipt}: the batch was pushed to {receipt['backend']}, "
            f"not {args.backend}: push it again"
        )
    if args.backend == "simulated":
        from alspec.oracles import simulated

        if args.truth is None:
            raise ValueError("pull: the simulated oracle needs --truth (oracle.truth)")
        relevance_of = dict(args.relevance_of) if args.relevance_of else None
        answers = simulated.pull(query, args.truth, args.batch, relevance_of)
    else:
        from alspec.oracles import labelstudio

        answers = labelstudio.pull(receipt, query, args.classes, args.token_file)
    labels.check(answers, args.classes, f"answers to batch {args.batch}")
    write_table(answers, args.out)
    print(f"pull: {len(answers)} answers to batch {args.batch}")
    if args.catalogue:
        size = labels.record(answers, args.catalogue, args.session)
        print(f"pull: the label catalogue {args.catalogue} holds {size} answers")


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
    import shlex

    from alspec.watch import Workflow, watch

    config = cfg.load(*args.configfile)
    configfiles = tuple(map(str, args.configfile))
    workflow = Workflow(
        tuple(shlex.split(args.snakemake)), configfiles, Path("results"), config["iterations"]
    )
    token_file = args.token_file or config["oracle"]["labelstudio"]["token_file"]
    watch(workflow, token_file, args.poll, args.port)
