"""An oracle that is a person labelling in Label Studio.

`push` imports the batch as tasks of one project per learning session, each with the
spectrum's window, its metadata and the model's prediction pre-selected; `pull`
exports the annotations, checks every answer against the labelling config and
returns the label table, or raises `BatchIncomplete` while answers are missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

import httpx
import numpy as np
import pandas as pd
from label_studio_sdk import LabelStudio

from alspec.formats import plain_value
from alspec.labels import UNSURE, LabelError, normalise
from alspec.oracles import BatchIncomplete, OracleUnavailable
from alspec.pool import BOOKKEEPING, select

TOKEN_VARIABLE = "LABEL_STUDIO_API_KEY"
LABEL_FROM, COMMENT_FROM, SPECTRUM_TO = "label", "comment", "window"


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


def labelling_config(classes: Sequence[str]) -> str:
    """The page: the window as a zoomable chart, the metadata, one hotkey per class."""
    choices = "\n".join(
        f'    <Choice value={quoteattr(name)} hotkey="{key}"/>'
        for key, name in zip([*range(1, 10), 0], [*classes, UNSURE], strict=False)
    )
    return f"""<View>
  <Header value="Spectrum $spectrum_id ($reason)"/>
  <TimeSeries name="{SPECTRUM_TO}" value="$window" valueType="json" timeColumn="wavelength"
              overviewWidth="100%">
    <Channel column="flux" legend="normalised flux in the window"/>
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


def tasks(
    query: pd.DataFrame, window_store: str | Path, catalog: pd.DataFrame, batch: str
) -> list[dict]:
    """One task per queried spectrum, in query order, with the model's guess pre-selected."""
    windows = select([window_store], list(query["id"]))
    wavelength = np.round(windows.window_wavelength.values, 2).tolist()
    metadata = catalog.set_index("id").drop(columns=BOOKKEEPING, errors="ignore")
    result = []
    for row, flux in zip(query.itertuples(index=False), windows.flux.values, strict=True):
        meta = metadata.loc[row.id].to_dict() if row.id in metadata.index else {}
        meta |= {"predicted": row.predicted, "probability": row.probability}
        data = {
            "spectrum_id": row.id,
            "batch": batch,
            "reason": row.reason,
            "score": float(row.score),
            "window": {"wavelength": wavelength, "flux": np.round(flux, 4).tolist()},
            "metadata": {key: plain_value(value) for key, value in meta.items()},
        }
        known = isinstance(row.predicted, str)
        guess = [_prediction(row.predicted, row.probability, batch)] if known else []
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


def push(
    query: pd.DataFrame,
    window_store: str | Path,
    catalog: pd.DataFrame,
    batch: str,
    url: str,
    project: str,
    token_file: str | Path,
    classes: Sequence[str],
) -> dict[str, object]:
    """Import the batch unless the project already holds it (a rerun must not duplicate it)."""
    client = connect(url, token_file)
    project_id = find_or_create_project(client, project, classes)
    existing = _batch_tasks(client, project_id, batch)
    if existing and set(existing.values()) != set(query["id"]):
        raise ValueError(
            f"Label Studio project {project!r} already holds batch {batch} with other spectra: "
            "delete those tasks or name another project in oracle.labelstudio.project"
        )
    if not existing:
        response = client.projects.import_tasks(
            id=project_id, request=tasks(query, window_store, catalog, batch), return_task_ids=True
        )
        existing = dict(zip(response.task_ids, query["id"], strict=True))
    return {
        "backend": "labelstudio",
        "url": url,
        "project": project_id,
        "batch": batch,
        "tasks": {str(task): spectrum for task, spectrum in existing.items()},
    }


def _batch_tasks(client: LabelStudio, project_id: int, batch: str) -> dict[int, str]:
    return {
        task.id: task.data["spectrum_id"]
        for task in client.tasks.list(project=project_id, fields="all")
        if task.data.get("batch") == batch
    }


def pull(
    receipt: dict, query: pd.DataFrame, classes: Sequence[str], token_file: str | Path
) -> pd.DataFrame:
    """The batch's answers; the latest annotation of a task wins."""
    client = connect(receipt["url"], token_file)
    task_ids = [int(t) for t in receipt["tasks"]]
    exported = json.loads(
        b"".join(
            client.projects.exports.download_sync(
                id=receipt["project"], export_type="JSON", download_all_tasks=True, ids=task_ids
            )
        )
    )
    answers = [
        _answer(task, classes) | {"id": receipt["tasks"][str(task["id"])]}
        for task in exported
        if str(task["id"]) in receipt["tasks"] and _latest(task)
    ]
    if len(answers) < len(task_ids):
        page = f"{receipt['url'].rstrip('/')}/projects/{receipt['project']}/data"
        raise BatchIncomplete(len(answers), len(task_ids), page)
    answered = pd.DataFrame(answers)
    labels = query.drop(columns=["label"], errors="ignore").merge(answered, on="id")
    return normalise(labels.assign(batch=receipt["batch"]))


def _latest(task: dict) -> dict | None:
    submitted = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
    return max(submitted, key=lambda a: (a.get("updated_at") or "", a["id"]), default=None)


def _answer(task: dict, classes: Sequence[str]) -> dict[str, str]:
    """The label and comment of a task's latest annotation, checked against the config."""
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
    return {
        "label": label,
        "comment": comment,
        "annotator": str(annotation.get("completed_by", "")),
    }
