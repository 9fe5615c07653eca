"""Push a batch to a real Label Studio server, answer it as a person would, pull it back."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from label_studio_sdk import LabelStudio

from alspec.pool import open_store

from conftest import CLASSES, TINY, free_port, project, run_alspec, snakemake

pytestmark = pytest.mark.slow


def choose(label: str) -> list[dict]:
    return [
        {
            "from_name": "label",
            "to_name": "window",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def write_query(pool, path, start: int, size: int) -> pd.DataFrame:
    ids = list(open_store(pool / "window.zarr").id.values[start : start + size])
    query = pd.DataFrame(
        {
            "id": ids,
            "score": [1.5 - 0.1 * i for i in range(size)],
            "reason": ["uncertain"] * (size - 1) + ["random"],
            "predicted": (["other", "single_peak", "double_peak"] * size)[:size],
            "probability": 0.6,
        }
    )
    query.to_parquet(path, index=False)
    return query


def oracle_args(step: str, server: dict, pool, tmp_path, batch: str) -> list:
    """The command line of `alspec push` or `alspec pull`, as the workflow writes it."""
    common = [
        "--backend",
        "labelstudio",
        "--query",
        tmp_path / "query.parquet",
        "--batch",
        batch,
        "--receipt",
        tmp_path / "receipt.json",
        "--token-file",
        server["token_file"],
        "--classes",
        *CLASSES,
    ]
    if step == "push":
        return [
            "push",
            *common,
            "--window",
            pool / "window.zarr",
            "--catalog",
            pool / "catalog.parquet",
            "--url",
            server["url"],
            "--project",
            "round trip",
        ]
    return ["pull", *common, "--out", tmp_path / "labels.parquet"]


def client_of(server: dict) -> LabelStudio:
    return LabelStudio(base_url=server["url"], api_key=server["token_file"].read_text().strip())


def test_round_trip(labelstudio, pool, tmp_path):
    query = write_query(pool, tmp_path / "query.parquet", 0, 6)
    run_alspec(*oracle_args("push", labelstudio, pool, tmp_path, "iterations/0"))
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    assert sorted(receipt["tasks"].values()) == sorted(query["id"])

    # Pushing again (a rerun) finds the batch instead of importing it twice.
    run_alspec(*oracle_args("push", labelstudio, pool, tmp_path, "iterations/0"))
    assert json.loads((tmp_path / "receipt.json").read_text()) == receipt
    client = client_of(labelstudio)
    tasks = list(client.tasks.list(project=receipt["project"], fields="all"))
    assert len(tasks) == 6
    first = next(t for t in tasks if t.data["spectrum_id"] == query["id"][1])
    assert first.data["metadata"]["predicted"] == "single_peak"
    assert len(first.data["window"]["flux"]) == 140
    assert {"ra", "dec", "subclass", "snrr"} <= set(first.data["metadata"])

    task_of = {spectrum: int(task) for task, spectrum in receipt["tasks"].items()}
    (guess,) = client.predictions.list(task=task_of[query["id"][1]])
    assert guess.result[0]["value"]["choices"] == ["single_peak"], "the model's guess is preset"
    answers = dict(
        zip(
            query["id"],
            ["other", "single_peak", "double_peak", "unsure", "other", "single_peak"],
            strict=True,
        )
    )
    for spectrum in list(answers)[:2]:
        client.annotations.create(id=task_of[spectrum], result=choose(answers[spectrum]))

    incomplete = run_alspec(
        *oracle_args("pull", labelstudio, pool, tmp_path, "iterations/0"), check=False
    )
    assert incomplete.returncode == 3
    page = f"{labelstudio['url']}/projects/{receipt['project']}/data"
    assert f"2 of 6 labelled: label the rest at {page}, then run again" in incomplete.stderr
    assert not (tmp_path / "labels.parquet").exists()

    spectra = list(answers)
    for spectrum in spectra[2:]:
        result = choose(answers[spectrum])
        if spectrum == spectra[2]:
            result += [
                {
                    "from_name": "comment",
                    "to_name": "window",
                    "type": "textarea",
                    "value": {"text": ["peaks look asymmetric\n"]},
                }
            ]
        client.annotations.create(id=task_of[spectrum], result=result)
    # The astronomer changes their mind about the first spectrum: the latest answer wins.
    annotation = client.annotations.list(id=task_of[spectra[0]])[0]
    client.annotations.update(id=annotation.id, result=choose("double_peak"))
    answers[spectra[0]] = "double_peak"

    run_alspec(*oracle_args("pull", labelstudio, pool, tmp_path, "iterations/0"))
    labels = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")
    assert labels["label"].to_dict() == answers
    assert labels.loc[spectra[2], "comment"] == "peaks look asymmetric"
    assert (labels["batch"] == "iterations/0").all()
    assert labels.loc[spectra[5], "reason"] == "random"


def test_unknown_class_is_rejected_with_the_task_id(labelstudio, pool, tmp_path):
    write_query(pool, tmp_path / "query.parquet", 10, 1)
    run_alspec(*oracle_args("push", labelstudio, pool, tmp_path, "iterations/7"))
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    client = client_of(labelstudio)
    (task,) = (int(t) for t in receipt["tasks"])
    client.annotations.create(id=task, result=choose("be_star"))
    pulled = run_alspec(
        *oracle_args("pull", labelstudio, pool, tmp_path, "iterations/7"), check=False
    )
    assert pulled.returncode == 1
    assert f"Label Studio task {task}: answer ['be_star'] is not one of" in pulled.stderr


def test_a_server_that_is_down_is_reported_with_the_fix(pool, tmp_path, labelstudio):
    write_query(pool, tmp_path / "query.parquet", 20, 2)
    down = labelstudio | {"url": f"http://127.0.0.1:{free_port()}"}
    pushed = run_alspec(*oracle_args("push", down, pool, tmp_path, "iterations/8"), check=False)
    assert pushed.returncode == 1
    assert "is not answering" in pushed.stderr and "scripts/labelstudio start" in pushed.stderr


def test_the_workflow_waits_for_the_person_then_goes_on(labelstudio, tmp_path):
    overrides = TINY | {
        "initial": {"size": 8},
        "oracle": {
            "backend": "labelstudio",
            "truth": None,
            "labelstudio": {
                "url": labelstudio["url"],
                "project": "workflow",
                "token_file": str(labelstudio["token_file"]),
            },
        },
    }
    project(tmp_path, overrides)
    waiting = snakemake(tmp_path, "results/iterations/0/query.parquet")
    assert waiting.returncode != 0
    assert "0 of 8 labelled: label the rest at" in waiting.stdout + waiting.stderr
    receipt = json.loads((tmp_path / "results/cold_start/batch.json").read_text())

    truth = pd.read_parquet(tmp_path / "results/survey/truth.parquet").set_index("id")["label"]
    client = client_of(labelstudio)
    for task, spectrum in receipt["tasks"].items():
        client.annotations.create(id=int(task), result=choose(truth[spectrum]))

    going_on = snakemake(tmp_path, "results/iterations/0/query.parquet")
    assert going_on.returncode == 0, going_on.stderr[-3000:]
    training_set = pd.read_parquet(tmp_path / "results/iterations/0/training_set.parquet")
    assert len(training_set) == 8
    assert (training_set.set_index("id")["label"] == truth[training_set["id"]]).all()
    assert (tmp_path / "results/iterations/0/query.parquet").exists()
