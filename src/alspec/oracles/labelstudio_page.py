"""What the labelling page shows of each spectrum (FR8-FR10): the whole spectrum and the
window as zoomable charts, its metadata, the sky around it, the model's guess
pre-selected, and why it was asked; one Label Studio task per spectrum of a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from alspec.errors import ConfigError
from alspec.layout import CATALOG
from alspec.pool.formats import plain_value
from alspec.pool.ingest import BOOKKEEPING
from alspec.pool.store import open_pool, select
from alspec.vocabulary import (
    COLD_START,
    DISCOVERY_SOURCES,
    ESTIMATE_SAMPLE,
    POOL_SAMPLE,
    TOP_RANKED,
    UNCERTAIN,
    UNSURE,
)

# The page's controls (from) and what they name (to)
LABEL_FROM, COMMENT_FROM, SPECTRUM_TO, WHOLE_TO = "label", "comment", "window", "spectrum"

PURPOSES = {
    UNCERTAIN: "the model is unsure",
    ESTIMATE_SAMPLE: "performance estimate: drawn at random, more often where it is unsure",
    POOL_SAMPLE: "performance estimate: a random spectrum of the pool",
    COLD_START: "first batch: a random spectrum",
    TOP_RANKED: "anomaly: how relevant is it to you, from 0 (not at all) to 5 (very)?",
    # discovery's sources, while a class of interest is scarce
    **dict(
        zip(
            DISCOVERY_SOURCES,
            (
                "discovery: an outlier of the pool",
                "discovery: a typical member of a group with no label yet",
                "discovery: ranked first by your prior (query.discovery.prior)",
            ),
            strict=True,
        )
    ),
}


def hotkeys(classes: Sequence[str]) -> list[str]:
    """Keys 1, 2, ... for the classes, then one for "unsure"; relevance levels (anomaly
    mode: "0" .. "5") are typed as themselves, "unsure" on the next digit."""
    if all(name.isdigit() for name in classes):
        return [*classes, str(int(classes[-1]) + 1)]
    return [str(key) for key in (*range(1, 10), 0)]


def labelling_config(classes: Sequence[str], sky: bool = False) -> str:
    """The page (FR8-FR10): the whole spectrum and the window as the model sees it, as
    zoomable charts with values on hover (each loaded by URL from a CSV file), the
    metadata, the sky around it (`sky`), one hotkey per class plus "unsure", a comment
    box. Label Studio shares one wavelength
    axis between the charts, set by the last: the whole spectrum opens on the window, its
    overview shows it all."""
    choices = "\n".join(
        f'    <Choice value={quoteattr(name)} hotkey="{key}"/>'
        for key, name in zip(hotkeys(classes), [*classes, UNSURE], strict=False)
    )
    return f"""<View>
  <Header value="Spectrum $spectrum_id: $purpose"/>
  <TimeSeries name="{WHOLE_TO}" value="$spectrum" valueType="url" sep=","
              timeColumn="wavelength" overviewWidth="100%">
    <Channel column="flux" legend="whole spectrum as observed: drag the band below to move"/>
  </TimeSeries>
  <TimeSeries name="{SPECTRUM_TO}" value="$window" valueType="url" sep=","
              timeColumn="wavelength" overviewWidth="100%">
    <Channel column="flux" legend="Hα window, normalised, as the model sees it"/>
  </TimeSeries>
  <Table name="metadata" value="$metadata"/>{SKY_PANEL if sky else ""}
  <Choices name="{LABEL_FROM}" toName="{SPECTRUM_TO}" choice="single-radio" showInline="true"
           required="true">
{choices}
  </Choices>
  <TextArea name="{COMMENT_FROM}" toName="{SPECTRUM_TO}" placeholder="Comment (optional)"
            maxSubmissions="1" editable="true"/>
</View>"""


SKY_PANEL = '\n  <HyperText name="sky" value="$sky" inline="true"/>'
SKY_LINKS = {
    "SIMBAD": "https://simbad.cds.unistra.fr/simbad/sim-coo?",
    "VizieR": "https://vizier.cds.unistra.fr/viz-bin/VizieR-4?",
    "Aladin Lite": "https://aladin.cds.unistra.fr/AladinLite/?",
}
HIPS2FITS = "https://alasky.cds.unistra.fr/hips-image-services/hips2fits?"


def sky_panel(
    ra: float | None, dec: float | None, sky: Mapping[str, Any], cutout: bool = True
) -> str:
    """The sky around a spectrum (config oracle.labelstudio.sky) as HTML: a cutout of the
    HiPS survey (unless not `cutout`) and links to SIMBAD, VizieR and Aladin Lite there,
    all loaded by the labeller's browser; "" for a spectrum without coordinates."""
    if ra is None or dec is None or not (np.isfinite(ra) and np.isfinite(dec)):
        return ""
    target = f"{ra:.6f} {dec:+.6f}"
    arcmin, degrees = sky["fov_arcmin"], sky["fov_arcmin"] / 60
    queries = {
        "SIMBAD": {
            "Coord": target,
            "CooFrame": "ICRS",
            "Radius": arcmin / 2,
            "Radius.unit": "arcmin",
        },
        "VizieR": {"-c": target, "-c.rm": arcmin / 2},
        "Aladin Lite": {"target": target, "fov": degrees, "survey": sky["survey"]},
    }
    region = {
        "hips": sky["survey"], "width": sky["pixels"], "height": sky["pixels"], "fov": degrees,
        "projection": "TAN", "coordsys": "icrs", "ra": ra, "dec": dec, "format": "jpg",
    }  # fmt: skip
    links = " · ".join(
        f'<a href="{escape(SKY_LINKS[name] + urlencode(query))}" target="_blank">{name}</a>'
        for name, query in queries.items()
    )
    title = f"{sky['survey']}, {arcmin:g}′ around {target}"
    image = (
        f'<img src="{escape(HIPS2FITS + urlencode(region))}" width="{sky["pixels"]}"'
        f' height="{sky["pixels"]}" alt="{escape(title)}" title="{escape(title)}"/>'
    )
    shown = image if cutout else ""
    return f'<div class="alspec-sky">{shown}<div>{escape(title)}: {links}</div></div>'


# The Data Manager's task list shows what to work by (the spectrum, why it was asked, its
# score, the model's guess); the charts' file addresses and the metadata stay on the page.
HIDDEN_COLUMNS = [f"tasks:data.{field}" for field in ("window", "spectrum", "metadata", "sky")]


def metadata_table(catalog: pd.DataFrame, fields: Sequence[str], source: str) -> pd.DataFrame:
    """The catalogue columns shown on the page (config oracle.labelstudio.metadata)."""
    missing = [f for f in fields if f not in catalog.columns]
    if missing:
        shown = sorted(set(catalog.columns) - set(BOOKKEEPING) - {"id"})
        raise ConfigError(
            f"oracle.labelstudio.metadata: {missing} not in {source}; it holds {shown}"
        )
    return catalog.set_index("id")[list(fields)]


def write_chart(path: Path, wavelength: np.ndarray, flux: np.ndarray) -> None:
    """A spectrum as the chart's CSV file: the finite points only, 5 digits."""
    finite = np.isfinite(flux)
    table = np.column_stack([wavelength[finite], flux[finite]])
    np.savetxt(
        path, table, fmt=("%.2f", "%.5g"), delimiter=",", header="wavelength,flux", comments=""
    )


def file_url(path: Path, files: Path) -> str:
    """The address the labelling page loads `path` from (Label Studio's local files)."""
    return "/data/local-files/?" + urlencode({"d": path.relative_to(files.resolve()).as_posix()})


def whole_spectra(
    pool_dir: str | Path, catalog: pd.DataFrame, ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The queried spectra as ingested (the pool's grid), in the order of `ids`; rows of
    `open_pool` follow the pool's `catalog`."""
    position = pd.Series(np.arange(len(catalog)), index=catalog["id"])
    rows = position.loc[list(ids)].to_numpy()
    spectra = open_pool(pool_dir).isel(spectrum=rows)
    return spectra.wavelength.values, spectra.flux.values


def tasks(
    query: pd.DataFrame,
    page: Page,
    batch: str,
    folder: Path,
) -> list[dict]:
    """One task per queried spectrum, in query order (the most uncertain first), with the
    model's guess pre-selected, the estimation samples marked as such, and the sky
    around it where `page.sky` (config oracle.labelstudio.sky) is on. Its charts are
    written as CSV files into `folder` (under page.files) and named by URL."""
    batch_folder = folder / batch.replace("/", "-")
    batch_folder.mkdir(parents=True, exist_ok=True)
    ids = list(query["id"])
    windows = select([page.window_store], ids)
    catalog_path = Path(page.pool_dir) / CATALOG
    catalog = pd.read_parquet(catalog_path)
    grid, whole = whole_spectra(page.pool_dir, catalog, ids)
    metadata = metadata_table(catalog, page.metadata, str(catalog_path))
    positions = catalog.set_index("id")[["ra", "dec"]]
    result = []
    for row, window, spectrum in zip(
        query.itertuples(index=False), windows.flux.values, whole, strict=True
    ):
        charts = {
            "window": chart_url(
                batch_folder / f"{row.id}-window.csv",
                page.files,
                windows.window_wavelength.values,
                window,
            ),
            "spectrum": chart_url(
                batch_folder / f"{row.id}-spectrum.csv", page.files, grid, spectrum
            ),
        }
        data = task_data(row, batch, charts, metadata.loc[row.id].to_dict())
        if page.sky:
            place = positions.loc[row.id]
            data["sky"] = sky_panel(plain_value(place["ra"]), plain_value(place["dec"]), page.sky)
        # the classifier's probability of its class; anomaly mode's predicted relevance
        # has none, and the ranking's score stands in as the prediction's score
        confidence = getattr(row, "probability", row.score)
        known = isinstance(row.predicted, str) and row.predicted != ""
        guess = [_prediction(row.predicted, confidence, batch)] if known else []
        result.append({"data": data, "predictions": guess})
    return result


def task_data(row: Any, batch: str, charts: Mapping[str, str], metadata: dict) -> dict:
    """A task's data: the spectrum, why it was asked, its charts' addresses and its
    metadata with the model's guess. A metadata value that does not exist (no prediction
    in the first batch, say) is left out, not shown as null."""
    meta = metadata | {"predicted": row.predicted}
    if hasattr(row, "probability"):
        meta["probability"] = row.probability
    return {
        "spectrum_id": row.id,
        "batch": batch,
        "reason": row.reason,
        "purpose": PURPOSES.get(row.reason, row.reason),
        "score": float(row.score),
        **charts,
        "metadata": {
            key: plain for key, value in meta.items() if (plain := plain_value(value)) is not None
        },
    }


def chart_url(path: Path, files: Path, wavelength: np.ndarray, flux: np.ndarray) -> str:
    write_chart(path, wavelength, flux)
    return file_url(path, files)


def _prediction(label: str, probability: float, batch: str) -> dict:
    """The model's class, shown pre-selected; its probability is the prediction's score."""
    choice = {
        "from_name": LABEL_FROM,
        "to_name": SPECTRUM_TO,
        "type": "choices",
        "value": {"choices": [label]},
    }
    return {"model_version": batch, "score": float(probability), "result": [choice]}


@dataclass(frozen=True)
class Page:
    """What a task shows: the window store, the pool (whole spectra, catalogue), where
    its charts' files go (config oracle.labelstudio.files) and the catalogue columns of
    config oracle.labelstudio.metadata."""

    window_store: Path
    pool_dir: Path
    files: Path
    metadata: tuple[str, ...]
    sky: Mapping[str, Any] | None = None  # config oracle.labelstudio.sky, None when off
