"""The report stage's step: `report` draws one iteration's figures from its files and
those of the iterations before it (workflow/rules/report.smk)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from alspec import layout
from alspec.config.settings import from_config
from alspec.errors import MissingInput
from alspec.io import atomic_output, read_json, write_json, write_text
from alspec.report.iteration import Iteration

logger = logging.getLogger(__name__)


def report(
    *,
    results: str | Path = layout.RESULTS,
    iteration: int | None = None,
    settings: Mapping[str, Any] | None = None,
    out: Path | None = None,
    window: Path | None = None,
    features: Path | None = None,
) -> dict[str, Any]:
    """The report step: the figures of finished `iteration` (default the last) of the run
    in `results`, into `out` (default results/iterations/<n>/report), each with the
    table it was drawn from beside it. The gallery shows the model's input from the
    `window` store and the map is drawn from the `features` store (by default the pool's,
    where there). `settings` default to the config the iteration ran with (else the
    schema's defaults). Returns the iteration drawn, the figures' paths by name and
    every finished iteration's performance record."""
    results = Path(results)
    folders = layout.iteration_folders(results)
    if not folders:
        raise MissingInput(f"{results}: no iterations/*/{layout.PERFORMANCE} yet")
    iteration = int(folders[-1].name) if iteration is None else iteration
    drawn = [f for f in folders if int(f.name) <= iteration]
    if not drawn or int(drawn[-1].name) != iteration:
        folder = layout.under(results, layout.ITERATIONS) / str(iteration)
        raise MissingInput(f"{folder}: no {layout.PERFORMANCE}; the iteration is not finished")
    if settings is None:
        ran_with = drawn[-1] / layout.ITERATION_CONFIG
        settings = from_config("report", [ran_with] if ran_with.exists() else [])
    pool = layout.under(results, layout.POOL)
    window = window or _existing(pool / layout.WINDOW)
    features = features or _existing(pool / layout.FEATURES)
    out = Path(out) if out else drawn[-1] / layout.REPORT
    run = Iteration(results, drawn, settings, window=window, features=features)
    drawings = run.drawings()
    written = {}
    for name in layout.REPORT_FILES[settings["mode"]]:
        logger.info("report of iteration %d: %s", iteration, name)
        product, data = drawings[Path(name).stem]()
        _save(product, out / name)
        _save_data(data, out / Path(name).stem)
        written[name] = out / name
    performance = [read_json(f / layout.PERFORMANCE) for f in folders]
    return {"iteration": iteration, "figures": written, "performance": performance}


def _existing(path: Path) -> Path | None:
    return path if path.exists() else None


def _save(product: Any, path: Path) -> None:
    """A figure as its file: a page's HTML, or a matplotlib figure in the file's format."""
    if isinstance(product, str):
        write_text(product, path)
        return
    with atomic_output(path) as tmp:
        product.savefig(tmp, dpi=100, format=path.suffix.lstrip("."))


def _save_data(data: pd.DataFrame | dict, stem: Path) -> None:
    """The table a figure was drawn from, beside it: CSV for a table, JSON otherwise."""
    if isinstance(data, pd.DataFrame):
        with atomic_output(stem.with_suffix(".csv")) as tmp:
            data.to_csv(tmp, index=False)
    else:
        write_json(data, stem.with_suffix(".json"))
