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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
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


def labelling_config(classes: Sequence[str]) -> str:
    """The page (FR8-FR10): the whole spectrum and the window as the model sees it, as
    zoomable charts with values on hover, the metadata, one hotkey per class plus
    "unsure", a comment box. Label Studio shares one wavelength axis between the charts,
    set by the last: the whole spectrum opens on the window, its overview shows it all."""
    choices = "\n".join(
        f'    <Choice value={quoteattr(name)} hotkey="{key}"/>'
        for key, name in zip(hotkeys(classes), [*classes, UNSURE], strict=False)
    )
    return f"""<View>
  <Header value="Spectrum $spectrum_id: $purpose"/>
  <TimeSeries name="{WHOLE_TO}" value="$spectrum" valueType="json" timeColumn="wavelength"
              overviewWidth="100%">
    <Channel column="flux" legend="whole spectrum as observed: drag the band below to move"/>
  </TimeSeries>
  <TimeSeries name="{SPECTRUM_TO}" value="$window" valueType="json" timeColumn="wavelength"
              overviewWidth="100%">
    <Channel column="flux" legend="Hα window, normalised, as the model sees it"/>
  </TimeSeries>
  <Table name="metadata" value="$metadata"/>
  <Choices name="{LABEL_FROM}" toName="{SPECTRUM_TO}" choice="single-radio" showInline="true"
           required="true">
{choices}
  </Choices>
  <TextArea name="{COMMENT_FROM}" toName="{SPECTRUM_TO}" placeholder="Comment (optional)"
            maxSubmissions="1" editable="true"/>
</View>"""


def find_or_create_project(client: LabelStudio, title: str, classes: Sequence[str]) -> int:
    config = labelling_config(classes)
    for project in client.projects.list(title=title):
        if project.title == title:
            if project.label_config and project.label_config.strip() != config.strip():
                client.projects.update(id=project.id, label_config=config)
            return project.id
    return client.projects.create(title=title, label_config=config, maximum_annotations=1).id


def metadata_table(catalog: pd.DataFrame, fields: Sequence[str], source: str) -> pd.DataFrame:
    """The catalogue columns shown on the page (config oracle.labelstudio.metadata)."""
    missing = [f for f in fields if f not in catalog.columns]
    if missing:
        shown = sorted(set(catalog.columns) - set(BOOKKEEPING) - {"id"})
        raise KeyError(f"oracle.labelstudio.metadata: {missing} not in {source}; it holds {shown}")
    return catalog.set_index("id")[list(fields)]


def chart(wavelength: np.ndarray, flux: np.ndarray) -> dict[str, list[float]]:
    """A spectrum as the chart's JSON: the finite points only (JSON has no NaN), 5 digits."""
    finite = np.isfinite(flux)
    return {
        "wavelength": np.round(wavelength[finite], 2).tolist(),
        "flux": [float(f"{v:.5g}") for v in flux[finite]],
    }


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
    window_store: str | Path,
    pool_dir: str | Path,
    metadata_fields: Sequence[str],
    batch: str,
) -> list[dict]:
    """One task per queried spectrum, in query order (the most uncertain first), with the
    model's guess pre-selected and the estimation samples marked as such."""
    ids = list(query["id"])
    windows = select([window_store], ids)
    catalog_path = Path(pool_dir) / "catalog.parquet"
    catalog = pd.read_parquet(catalog_path)
    grid, whole = whole_spectra(pool_dir, catalog, ids)
    metadata = metadata_table(catalog, metadata_fields, str(catalog_path))
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
            "window": chart(windows.window_wavelength.values, window),
            "spectrum": chart(grid, spectrum),
            "metadata": {key: plain_value(value) for key, value in meta.items()},
        }
        known = isinstance(row.predicted, str) and row.predicted != ""
        guess = [_prediction(row.predicted, confidence, batch)] if known else []
        result.append({"data": data, "predictions": guess})
    return result


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
    """What a task shows: the window store, the pool (whole spectra, catalogue) and the
    catalogue columns of config oracle.labelstudio.metadata."""

    window_store: Path
    pool_dir: Path
    metadata: tuple[str, ...]


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
        project_id = find_or_create_project(client, project, classes)
        existing = _batch_tasks(client, project_id, batch)
    if existing and set(existing.values()) != set(query["id"]):
        raise ValueError(
            f"Label Studio project {project!r} already holds batch {batch} with other spectra: "
            "delete those tasks or name another project in oracle.labelstudio.project"
        )
    if not existing:
        batch_tasks = tasks(query, page.window_store, page.pool_dir, page.metadata, batch)
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
    return {
        task.id: task.data["spectrum_id"]
        for task in client.tasks.list(project=project_id, fields="all")
        if task.data.get("batch") == batch
    }


def labelling_page(receipt: dict) -> str:
    return f"{receipt['url'].rstrip('/')}/projects/{receipt['project']}/data"


def _exported(client: LabelStudio, receipt: dict) -> list[dict]:
    """The batch's tasks with their annotations, as Label Studio exports them."""
    task_ids = [int(t) for t in receipt["tasks"]]
    with refusals(f"export batch {receipt['batch']} of project {receipt['project']}"):
        chunks = b"".join(
            client.projects.exports.download_sync(
                id=receipt["project"], export_type="JSON", download_all_tasks=True, ids=task_ids
            )
        )
    return [task for task in json.loads(chunks) if str(task["id"]) in receipt["tasks"]]


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
