"""The explorer: a finished iteration in the browser (docs/explore.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec import layout
from alspec.cli.common import call_step, command


def _explore_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "results", type=Path, nargs="?", default=Path(layout.RESULTS),
        help="the results folder of a run (default: results)",
    )  # fmt: skip
    p.add_argument("--iteration", type=int, help="a finished iteration (default: the last)")
    p.add_argument("--port", type=int, default=0, help="on 127.0.0.1 (default: a free one)")


@command(
    "explore",
    'the pool\'s map, its spectra, "more like this" and "ask", in the browser',
    _explore_options,
)
def run_explore(args: argparse.Namespace) -> None:
    from alspec.explorer.steps import explore

    def ready(url: str) -> None:
        print(
            f"explorer: {url}\n(open it in a browser, through an SSH tunnel from a laptop:"
            f" docs/explore.md; Ctrl-C stops it)",
            flush=True,
        )

    try:
        call_step(explore, args, ready=ready)
    except KeyboardInterrupt:
        print("explorer: stopped")
