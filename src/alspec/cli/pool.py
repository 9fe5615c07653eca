"""The survey and the pool: config, simulate, shard, ingest, gather, window, features."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from alspec import config as cfg
from alspec.cli.common import (
    call_step,
    command,
    counts,
    settings_options,
    threads_option,
)
from alspec.io import write_text


def _config_options(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="YAML config file to check")
    source.add_argument("--json", help="config as JSON text (how the workflow records it)")
    source.add_argument(
        "--reference", action="store_true", help="every key documented (docs/configuration.md)"
    )
    p.add_argument("--out", type=Path, help="write the resolved config (YAML) here")
    p.add_argument("--get", metavar="KEY", help="print one setting, e.g. oracle.labelstudio.url")


@command("config", "validate a configuration, fill in defaults, print or write it", _config_options)
def run_config(args: argparse.Namespace) -> None:
    if args.reference:
        text = cfg.reference()
        write_text(text, args.out) if args.out else print(text, end="")
        return
    resolved = cfg.load(args.file) if args.file else cfg.resolve(json.loads(args.json))
    if args.get:
        value = cfg.setting(resolved, args.get)
        print(value if isinstance(value, str | int | float) else json.dumps(value))
        return
    text = yaml.safe_dump(resolved, sort_keys=False)
    if args.out:
        write_text(text, args.out)
    else:
        print(text, end="")


def _simulate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", type=Path, required=True, help="writes OUT/spectra/ and OUT/truth.parquet"
    )
    p.add_argument(
        "--external",
        action="store_true",
        help="an Ondřejov labelled set instead of the survey (initial.source external)",
    )
    p.add_argument("--workers", type=int, default=1, help="processes writing files")
    settings_options(p, "simulate")


@command("simulate", "write a synthetic LAMOST-format survey with a truth table", _simulate_options)
def run_simulate(args: argparse.Namespace) -> None:
    from alspec.simulate import write_survey

    truth = call_step(write_survey, args)
    kind = "label" if "kind" not in truth else "kind"
    print(f"wrote {len(truth)} spectra to {args.out / 'spectra'}: {counts(truth[kind])}")


def _shard_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="spectrum files, directories, globs, or lists of paths")
    p.add_argument("--out", type=Path, required=True, help="folder of shard lists to write")
    settings_options(p, "shard")


@command("shard", "split the survey's files into shards, one list each", _shard_options)
def run_shard(args: argparse.Namespace) -> None:
    from alspec.pool import shard_files

    done = call_step(shard_files, args)
    print(f"shard: {done['files']} files in {done['shards']} shard(s) of up to {done['size']}")


def _ingest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("shard_list", type=Path, help="the shard's list of files (alspec shard)")
    p.add_argument("--out", type=Path, required=True, help="the shard's folder to write")
    settings_options(p, "ingest")


@command("ingest", "read one shard's spectrum files into its Zarr store", _ingest_options)
def run_ingest(args: argparse.Namespace) -> None:
    from alspec.pool import ingest_listed

    total, ingested, quarantined = call_step(ingest_listed, args)
    print(f"ingest: {total} files: {ingested} spectra ingested, {quarantined} quarantined")


def _gather_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("shards", nargs="+", type=Path, help="the shard folders")
    p.add_argument("--lists", type=Path, required=True, help="the folder of shard lists")
    p.add_argument("--catalog", type=Path, required=True)
    p.add_argument("--quarantine", type=Path, required=True)


@command("gather", "check that every file is accounted for; write one catalogue", _gather_options)
def run_gather(args: argparse.Namespace) -> None:
    from alspec.pool import gather

    gather(args.lists, args.shards, args.catalog, args.quarantine)


def _store_options(p: argparse.ArgumentParser, step: str) -> None:
    p.add_argument("--pool", type=Path, required=True, help="the pool folder (catalog, shards)")
    p.add_argument("--out", type=Path, required=True, help="the Zarr store to write")
    threads_option(p)
    settings_options(p, step)


@command(
    "window",
    "extract and normalise the spectral window the CNN reads",
    lambda p: _store_options(p, "window"),
)
def run_window(args: argparse.Namespace) -> None:
    from alspec.features import write_window

    done = call_step(write_window, args)
    print(f"window: {done['spectra']} spectra, {done['normalisation']} normalisation")


@command(
    "features",
    "PCA scores, line measurements and a 2-D map of every spectrum",
    lambda p: _store_options(p, "features"),
)
def run_features(args: argparse.Namespace) -> None:
    from alspec.features import write_features

    done = call_step(write_features, args)
    print(
        f"features: {done['spectra']} spectra; {done['components']} PCA components"
        f" ({done['explained']:.0%} of the variance); lines {', '.join(done['lines'])};"
        f" map {done['map']}"
    )
