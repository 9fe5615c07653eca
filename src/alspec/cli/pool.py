"""The pool: shard the survey's files, ingest each shard, gather them."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec.cli.common import call_step, command, settings_options


def _shard_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="spectrum files, directories, globs, or lists of paths")
    p.add_argument("--out", type=Path, required=True, help="folder of shard lists to write")
    settings_options(p, "shard")


@command("shard", "split the survey's files into shards, one list each", _shard_options)
def run_shard(args: argparse.Namespace) -> None:
    from alspec.pool.steps import shard

    done = call_step(shard, args)
    print(f"shard: {done['files']} files in {done['shards']} shard(s) of up to {done['size']}")


def _ingest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("shard_list", type=Path, help="the shard's list of files (alspec shard)")
    p.add_argument("--out", type=Path, required=True, help="the shard's folder to write")
    settings_options(p, "ingest")


@command("ingest", "read one shard's spectrum files into its Zarr store", _ingest_options)
def run_ingest(args: argparse.Namespace) -> None:
    from alspec.pool.steps import ingest

    total, ingested, quarantined = call_step(ingest, args)
    print(f"ingest: {total} files: {ingested} spectra ingested, {quarantined} quarantined")


def _gather_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("shards", nargs="+", type=Path, help="the shard folders")
    p.add_argument("--lists", type=Path, required=True, help="the folder of shard lists")
    p.add_argument("--catalog", type=Path, required=True)
    p.add_argument("--quarantine", type=Path, required=True)


@command("gather", "check that every file is accounted for; write one catalogue", _gather_options)
def run_gather(args: argparse.Namespace) -> None:
    from alspec.pool.steps import gather

    call_step(gather, args)  # it logs what it gathered
