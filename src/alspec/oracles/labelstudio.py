"""An oracle that is a person labelling in Label Studio.

`push` imports the batch as tasks of one project per learning session, each with the
spectrum's window, its metadata and the model's prediction pre-selected; `pull`
exports the annotations, checks every answer against the labelling config and
returns the label table, or raises `BatchIncomplete` while answers are missing.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import quoteattr

import httpx
import numpy as np
import pandas as pd
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from alspec.formats import plain_value
from alspec.labels import UNSURE, LabelError, normalise
from alspec.oracles import BatchIncomplete, OracleUnavailable
from alspec.pool import BOOKKEEPING, open_pool, select
from alspec.query import COLD_START, POOL_SAMPLE, RANDOM, TOP_RANKED, UNCERTAIN

TOKEN_VARIABLE = "LABEL_STUDIO_API_KEY"
LABEL_FROM, COMMENT_FROM, SPECTRUM_TO, WHOLE_TO = "label", "comment", "window", "spectrum"


def read_token(token_file: str | Path) -> str:
    """The API token: from $LABEL_STUDIO_API_KEY, else from the git-ignored token file."""
    if os.environ.get(TOKEN_VARIABLE):
        return os.environ[TOKEN_VARIABLE]
    path = Path(token_file)
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    raise OracleUnavailable(
        f"no Label Studio API token: set {TOKEN_VARIABLE} or write it to {path} "
        "(scripts/labelstudio start does)"
    )


def connect(url: str, token_file: str | Path) -> LabelStudio:
    """A client for a server that answers its health check, or a message saying what to do."""
    try:
        healthy = httpx.get(f"{url.rstrip('/')}/health", timeout=10).status_code == 200
    except httpx.HTTPError:
        healthy = False
    if not healthy:
        raise OracleUnavailable(
            f"Label Studio is not answering at {url}: start it with `scripts/labelstudio start`"
        )
    return LabelStudio(base_url=url, api_key=read_token(token_file))


PURPOSES = {
    UNCERTAIN: "the model is unsure",
    RANDOM: "performance estimate: a random candidate",
    POOL_SAMPLE: "performance estimate: a random spectrum of the pool",
    COLD_START: "first batch: a random spectrum",
    TOP_RANKED: "anomaly: how relevant is it to you, from 0 (not at all) to 5 (very)?",
    # discovery's sources (alspec.discovery), while a class of interest is scarce
    "anomaly": "discovery: an outlier of the pool",
    "typical": "discovery: a typical member of a group with no label yet",
    "prior": "discovery: ranked first by your prior (query.discovery.prior)",
}


class Refused(ValueError):
    """Label Studio refused a request; the message gives its reason."""


@contextlib.contextmanager
def refusals(what: str) -> Iterator[None]:
    """Turn the SDK's ApiError into one line saying what was refused and why."""
    try:
        yield
    except ApiError as error:
        body = error.body if isinstance(error.body, dict) else {"detail": error.body}
        reason = body.get("validation_errors") or body.get("detail") or body
        message = f"Label Studio refused to {what} (HTTP {error.status_code}): {reason}"
        raise Refused(message) from None


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


def sky_panel(ra: float | None, dec: float | None, sky: Mapping[str, Any]) -> str:
    """The sky around a spectrum (config oracle.labelstudio.sky) as HTML: a cutout of the
    HiPS survey and links to SIMBAD, VizieR and Aladin Lite there, all loaded by the
    labeller's browser; "" for a spectrum without coordinates."""
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
    cutout = {
        "hips": sky["survey"], "width": sky["pixels"], "height": sky["pixels"], "fov": degrees,
        "projection": "TAN", "coordsys": "icrs", "ra": ra, "dec": dec, "format": "jpg",
    }  # fmt: skip
    links = " · ".join(
        f'<a href="{escape(SKY_LINKS[name] + urlencode(query))}" target="_blank">{name}</a>'
        for name, query in queries.items()
    )
    title = f"{sky['survey']}, {arcmin:g}′ around {target}"
    image = (
        f'<img src="{escape(HIPS2FITS + urlencode(cutout))}" width="{sky["pixels"]}"'
        f' height="{sky["pixels"]}" alt="{escape(title)}" title="{escape(title)}"/>'
    )
    return f'<div class="alspec-sky">{image}<div>{escape(title)}: {links}</div></div>'


# The Data Manager's task list shows what to work by (the spectrum, why it was asked, its
# score, the model's guess); the charts' file addresses and the metadata stay on the page.
HIDDEN_COLUMNS = [f"tasks:data.{field}" for field in ("window", "spectrum", "metadata", "sky")]


def find_or_create_project(
    client: LabelStudio, title: str, classes: Sequence[str], sky: bool = False
) -> int:
    config = labelling_config(classes, sky)
    for project in client.projects.list(title=title):
        if project.title == title:
            if project.label_config and project.label_config.strip() != config.strip():
                client.projects.update(id=project.id, label_config=config)
            return project.id
    project_id = client.projects.create(title=title, label_config=config, maximum_annotations=1).id
    # the SDK's view type names filters and ordering only; it sends a dict as it is
    view = {
        "title": "batches",
        "hiddenColumns": dict.fromkeys(("explore", "labeling"), HIDDEN_COLUMNS),
    }
    client.views.create(project=project_id, data=view)
    return project_id


def spectra_folder(client: LabelStudio, project_id: int, files: Path) -> Path:
    """The project's folder under config oracle.labelstudio.files, registered with Label
    Studio as the project's local-files storage, so that its pages may load the files."""
    folder = (files / f"project-{project_id}").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if not any(
        Path(s.path) == folder for s in client.import_storage.local.list(project=project_id)
    ):
        client.import_storage.local.create(
            project=project_id, path=str(folder), title="alspec spectra", use_blob_urls=False
        )
    return folder


def metadata_table(catalog: pd.DataFrame, fields: Sequence[str], source: str) -> pd.DataFrame:
    """The catalogue columns shown on the page (config oracle.labelstudio.metadata)."""
    missing = [f for f in fields if f not in catalog.columns]
    if missing:
        shown = sorted(set(catalog.columns) - set(BOOKKEEPING) - {"id"})
        raise KeyError(f"oracle.labelstudio.metadata: {missing} not in {source}; it holds {shown}")
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
    written as CSV files into `folder` (under page.files) and named by URL. A metadata
    value that does not exist (no prediction in the first batch, say) is left out, not
    shown as null."""
    batch_folder = folder / batch.replace("/", "-")
    batch_folder.mkdir(parents=True, exist_ok=True)
    ids = list(query["id"])
    windows = select([page.window_store], ids)
    catalog_path = Path(page.pool_dir) / "catalog.parquet"
    catalog = pd.read_parquet(catalog_path)
    grid, whole = whole_spectra(page.pool_dir, catalog, ids)
    metadata = metadata_table(catalog, page.metadata, str(catalog_path))
    catalog_positions = catalog.set_index("id")[["ra", "dec"]]
    result = []
    for row, window, spectrum in zip(
        query.itertuples(index=False), windows.flux.values, whole, strict=True
    ):
        # the classifier's probability of its class; anomaly mode's predicted relevance
        # has none, and the ranking's score stands in as the prediction's score
        confidence = getattr(row, "probability", row.score)
        meta = metadata.loc[row.id].to_dict() | {"predicted": row.predicted}
        if hasattr(row, "probability"):
            meta["probability"] = row.probability
        data = {
            "spectrum_id": row.id,
            "batch": batch,
            "reason": row.reason,
            "purpose": PURPOSES.get(row.reason, row.reason),
            "score": float(row.score),
            "window": chart_url(
                batch_folder / f"{row.id}-window.csv",
                page.files,
                windows.window_wavelength.values,
                window,
            ),
            "spectrum": chart_url(
                batch_folder / f"{row.id}-spectrum.csv", page.files, grid, spectrum
            ),
            "metadata": {
                key: plain
                for key, value in meta.items()
                if (plain := plain_value(value)) is not None
            },
        }
        if page.sky:
            place = catalog_positions.loc[row.id]
            data["sky"] = sky_panel(plain_value(place["ra"]), plain_value(place["dec"]), page.sky)
        known = isinstance(row.predicted, str) and row.predicted != ""
        guess = [_prediction(row.predicted, confidence, batch)] if known else []
        result.append({"data": data, "predictions": guess})
    return result


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


def push(
    query: pd.DataFrame,
    page: Page,
    batch: str,
    url: str,
    project: str,
    token_file: str | Path,
    classes: Sequence[str],
) -> dict[str, object]:
    """Import the batch unless the project already holds it (a rerun must not duplicate it)."""
    client = connect(url, token_file)
    with refusals(f"open project {project!r}"):
        project_id = find_or_create_project(client, project, classes, page.sky is not None)
        existing = _batch_tasks(client, project_id, batch)
    if existing and set(existing.values()) != set(query["id"]):
        raise ValueError(
            f"Label Studio project {project!r} already holds batch {batch} with other spectra: "
            "delete those tasks or name another project in oracle.labelstudio.project"
        )
    if not existing:
        with refusals(f"let project {project!r} load its spectra from {page.files}"):
            folder = spectra_folder(client, project_id, page.files)
        batch_tasks = tasks(query, page, batch, folder)
        with refusals(f"import batch {batch}"):
            response = client.projects.import_tasks(
                id=project_id, request=batch_tasks, return_task_ids=True
            )
        existing = dict(zip(response.task_ids, query["id"], strict=True))
    return {
        "backend": "labelstudio",
        "url": url,
        "project": project_id,
        "project_title": project,
        "batch": batch,
        "tasks": {str(task): spectrum for task, spectrum in existing.items()},
    }


def _batch_tasks(client: LabelStudio, project_id: int, batch: str) -> dict[int, str]:
    """The tasks of `batch` already in the project: asked of the server by a Data Manager
    filter, so that a project of many batches is not listed whole."""
    same_batch = {"filter": "filter:tasks:data.batch", "operator": "equal", "type": "String"}
    query = {"filters": {"conjunction": "and", "items": [same_batch | {"value": batch}]}}
    return {
        task.id: task.data["spectrum_id"]
        for task in client.tasks.list(project=project_id, query=json.dumps(query))
        if task.data.get("batch") == batch
    }


def labelling_page(receipt: dict) -> str:
    return f"{receipt['url'].rstrip('/')}/projects/{receipt['project']}/data"


def _exported(client: LabelStudio, receipt: dict) -> list[dict]:
    """The batch's tasks with their annotations, asked by their ids (a Data Manager
    selection): an export would serialise every task of the project, minutes for a
    project of many batches."""
    chosen = {"selectedItems": {"all": False, "included": [int(t) for t in receipt["tasks"]]}}
    with refusals(f"list batch {receipt['batch']} of project {receipt['project']}"):
        tasks = client.tasks.list(
            project=receipt["project"], fields="all", query=json.dumps(chosen)
        )
        return [task.model_dump(mode="json") for task in tasks if str(task.id) in receipt["tasks"]]


def progress(receipt: dict, token_file: str | Path) -> tuple[int, int]:
    """How many of the batch's tasks have an answer, of how many."""
    client = connect(receipt["url"], token_file)
    answered = sum(1 for task in _exported(client, receipt) if _latest(task))
    return answered, len(receipt["tasks"])


def pull(
    receipt: dict, query: pd.DataFrame, classes: Sequence[str], token_file: str | Path
) -> pd.DataFrame:
    """The batch's answers; the latest annotation of a task wins."""
    client = connect(receipt["url"], token_file)
    exported = [task for task in _exported(client, receipt) if _latest(task)]
    if len(exported) < len(receipt["tasks"]):
        raise BatchIncomplete(len(exported), len(receipt["tasks"]), labelling_page(receipt))
    annotators = {user.id: user.email or user.username for user in client.users.list()}
    answers = [
        _answer(task, classes, annotators) | {"id": receipt["tasks"][str(task["id"])]}
        for task in exported
    ]
    labels = query.drop(columns=["label"], errors="ignore").merge(pd.DataFrame(answers), on="id")
    return normalise(labels.assign(batch=receipt["batch"]))


def _latest(task: dict) -> dict | None:
    submitted = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
    return max(submitted, key=lambda a: (a.get("updated_at") or "", a["id"]), default=None)


def _answer(task: dict, classes: Sequence[str], annotators: dict[int, str]) -> dict[str, str]:
    """The label, comment and annotator of a task's latest annotation, checked against
    the labelling config (the server accepts any choice)."""
    annotation = _latest(task)
    allowed = {*classes, UNSURE}
    label, comment = None, ""
    for result in annotation["result"]:
        if result.get("from_name") == LABEL_FROM:
            choices = result.get("value", {}).get("choices", [])
            if len(choices) != 1 or choices[0] not in allowed:
                raise LabelError(
                    f"Label Studio task {task['id']}: answer {choices} is not one of "
                    f"{sorted(allowed)}"
                )
            label = choices[0]
        elif result.get("from_name") == COMMENT_FROM:
            comment = " ".join(result.get("value", {}).get("text", [])).strip()
        else:
            raise LabelError(
                f"Label Studio task {task['id']}: unknown control {result.get('from_name')!r}"
            )
    if label is None:
        raise LabelError(f"Label Studio task {task['id']}: an annotation without a class")
    who = annotation.get("completed_by")
    who = who.get("id") if isinstance(who, dict) else who
    return {"label": label, "comment": comment, "annotator": annotators.get(who, str(who))}
