"""An oracle that is a person labelling in Label Studio.

`push` imports the batch as tasks of one project per learning session, each with the
spectrum's window, its metadata and the model's prediction pre-selected (the page:
alspec.oracles.labelstudio_page); `pull` reads the annotations, checks every answer
against the labelling config and returns the label table, or raises `BatchIncomplete`
while answers are missing.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pandas as pd
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from alspec.errors import BatchIncomplete, InputError, LabelError, Unavailable
from alspec.oracles.labels import normalise
from alspec.oracles.labelstudio_page import (
    COMMENT_FROM,
    HIDDEN_COLUMNS,
    LABEL_FROM,
    Page,
    labelling_config,
    tasks,
)
from alspec.vocabulary import UNSURE

TOKEN_VARIABLE = "LABEL_STUDIO_API_KEY"


def read_token(token_file: str | Path) -> str:
    """The API token: from $LABEL_STUDIO_API_KEY, else from the git-ignored token file."""
    if os.environ.get(TOKEN_VARIABLE):
        return os.environ[TOKEN_VARIABLE]
    path = Path(token_file)
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    raise Unavailable(
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
        raise Unavailable(
            f"Label Studio is not answering at {url}: start it with `scripts/labelstudio start`"
        )
    return LabelStudio(base_url=url, api_key=read_token(token_file))


class Refused(Unavailable):
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
        raise InputError(
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
