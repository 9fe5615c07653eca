"""The labels: the cold start, the training set, an external labelled set."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from alspec import config as cfg
from alspec.cli.common import (
    assignment,
    classes_option,
    command,
    counts,
    grid_option,
    held_out_ids,
    held_out_option,
    parse_grid,
    window_shape_options,
)
from alspec.io import read_table, write_table


def _cold_start_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--window", type=Path, required=True)
    p.add_argument("--size", type=int, default=cfg.default("initial", "size"))
    p.add_argument("--seed", type=int, default=cfg.default("initial", "seed"))
    p.add_argument("--ids", type=Path, help="ask these spectra instead: a file of ids, one a line")
    held_out_option(p)
    p.add_argument("--out", type=Path, required=True)


@command(
    "cold-start",
    "the first batch to label: drawn at random from the pool (FR5) or chosen (FR7)",
    _cold_start_options,
)
def run_cold_start(args: argparse.Namespace) -> None:
    from alspec.pool import open_store
    from alspec.query import chosen_batch, random_batch

    window = open_store(args.window)
    ids = window.id.values[window.valid.values]
    ids = ids[~np.isin(ids, list(held_out_ids(args.held_out)))]
    if args.ids:
        lines = (line.strip() for line in args.ids.read_text().splitlines())
        wanted = [line for line in lines if line and not line.startswith("#")]
        batch = chosen_batch(wanted, set(ids), str(args.ids))
    else:
        batch = random_batch(ids, args.size, np.random.default_rng(args.seed))
    write_table(batch, args.out)
    print(f"cold start: {len(batch)} spectra to label")


def _training_set_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("labels", nargs="*", type=Path, help="label tables, oldest first (or none)")
    classes_option(p)
    held_out_option(p)
    p.add_argument("--out", type=Path, required=True)


@command(
    "training-set",
    "merge label tables; a later answer replaces an earlier one",
    _training_set_options,
)
def run_training_set(args: argparse.Namespace) -> None:
    from alspec import labels

    tables = [read_table(path, required=("id", "label")) for path in args.labels]
    for path, table in zip(args.labels, tables, strict=True):
        labels.check(table, args.classes, str(path))
    merged = labels.merge(tables)
    held_out = merged["id"].isin(held_out_ids(args.held_out))
    if held_out.any():
        print(f"training set: {int(held_out.sum())} spectra of the held-out set left out")
        merged = merged.loc[~held_out].reset_index(drop=True)
    write_table(merged, args.out)
    print(f"training set: {len(merged)} labelled spectra: {counts(merged['label'])}")


def _transfer_options(p: argparse.ArgumentParser) -> None:
    external = cfg.default("initial", "external")
    p.add_argument("files", nargs="+", help="the set's spectrum files, directories or globs")
    p.add_argument("--labels", type=Path, required=True, help="table of id, label")
    p.add_argument(
        "--label-map",
        nargs="*",
        type=assignment,
        default=list(external["label_map"].items()),
        metavar="FROM=TO",
        help="the set's labels in the pool's classes",
    )
    classes_option(p)
    p.add_argument("--resolving-power", type=float, default=external["resolving_power"])
    p.add_argument(
        "--target-resolving-power", type=float, default=cfg.default("pool", "resolving_power")
    )
    grid_option(p)
    window_shape_options(p)
    p.add_argument("--out", type=Path, required=True, help="the set's window store")
    p.add_argument(
        "--labels-out", type=Path, required=True, help="its labels, in the pool's classes"
    )


@command(
    "transfer",
    "make a labelled set from another instrument look like the pool: vacuum, resolution, window",
    _transfer_options,
)
def run_transfer(args: argparse.Namespace) -> None:
    from alspec import labels
    from alspec.io import atomic_output
    from alspec.pool import discover_files
    from alspec.preprocess import window_grid
    from alspec.transfer import relabel, transfer_windows

    table = relabel(read_table(args.labels, required=("id", "label")), dict(args.label_map))
    labels.check(table, args.classes, f"{args.labels} (after --label-map)")
    store, kept, skipped = transfer_windows(
        discover_files(args.files),
        table,
        args.resolving_power,
        args.target_resolving_power,
        parse_grid(args.grid),
        window_grid(*args.range, args.points),
        args.normalisation,
        args.min_coverage,
        args.continuum_segment,
    )
    for line in skipped:
        print(f"transfer: left out {line}")
    with atomic_output(args.out) as tmp:
        store.to_zarr(tmp, consolidated=False)
    write_table(kept, args.labels_out)
    print(
        f"transfer: {len(kept)} spectra from R {args.resolving_power:g} to"
        f" R {args.target_resolving_power:g}: {counts(kept['label'])}"
    )
