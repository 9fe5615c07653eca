"""Push a batch to a real Label Studio server, answer it as a person would, pull it back."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pandas as pd
import pytest
from label_studio_sdk import LabelStudio

from alspec.pool.store import open_store

from conftest import (
    BIN,
    CHROMIUM,
    CHROMIUM_FLAGS,
    CLASSES,
    REPO,
    SCREENSHOTS,
    TINY,
    free_port,
    project,
    run_alspec,
)

pytestmark = pytest.mark.slow
METADATA = ["ra", "dec", "subclass", "snrr"]


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
            "reason": ["uncertain"] * (size - 1) + ["estimate"],
            "predicted": (["other", "single_peak", "double_peak"] * size)[:size],
            "probability": 0.6,
        }
    )
    query.to_parquet(path, index=False)
    return query


def oracle_args(
    step: str,
    server: dict,
    pool: Path,
    tmp_path: Path,
    batch: str,
    mode: str = "classification",
    project: str = "round trip",
) -> list:
    """The command line of `alspec push` or `alspec pull`, as a user writes it by hand."""
    settings = {
        "mode": mode,
        "oracle.backend": "labelstudio",
        "oracle.labelstudio.token_file": server["token_file"],
        "oracle.labelstudio.files": server["files"],
        "oracle.labelstudio.url": server["url"],
        "oracle.labelstudio.project": project,
        "oracle.labelstudio.metadata": f"[{', '.join(METADATA)}]",
    }
    common = [
        "--query",
        tmp_path / "query.parquet",
        "--batch",
        batch,
        "--receipt",
        tmp_path / "receipt.json",
        *[part for key, value in settings.items() for part in ("--set", f"{key}={value}")],
    ]
    if step == "push":
        return ["push", *common, "--window", pool / "window.zarr", "--pool", pool]
    return [
        "pull",
        *common,
        "--catalogue",
        tmp_path / "catalogue.parquet",
        "--out",
        tmp_path / "labels.parquet",
    ]


def chart_file(server: dict, url: str) -> pd.DataFrame:
    """The chart a task names by URL (/data/local-files/?d=...), read from the folder
    Label Studio serves."""
    assert url.startswith("/data/local-files/?d=")
    return pd.read_csv(server["files"] / parse_qs(urlsplit(url).query)["d"][0])


def actions(calls: list[dict]) -> list[str]:
    return [call["action"] for call in calls]


def client_of(server: dict) -> LabelStudio:
    return LabelStudio(base_url=server["url"], api_key=server["token_file"].read_text().strip())


def restart(server: dict) -> None:
    """Stop and start the server on its data folder, as an admin would."""
    script = REPO / "scripts" / "labelstudio"
    for step in ("stop", "start"):
        done = subprocess.run([script, step], env=server["env"], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_page_types_classes_by_number_and_relevance_as_itself():
    from xml.etree import ElementTree

    from alspec.oracles.labelstudio_page import labelling_config
    from alspec.vocabulary import relevance_levels

    def keys(classes):
        page = ElementTree.fromstring(labelling_config(classes))
        return {c.get("value"): c.get("hotkey") for c in page.iter("Choice")}

    assert keys(CLASSES) == {"other": "1", "single_peak": "2", "double_peak": "3", "unsure": "4"}
    relevance = keys(relevance_levels(5))
    assert relevance == {**{str(u): str(u) for u in range(6)}, "unsure": "6"}


def test_round_trip(labelstudio, pool, tmp_path):
    query = write_query(pool, tmp_path / "query.parquet", 0, 6)
    run_alspec(*oracle_args("push", labelstudio, pool, tmp_path, "iterations/0"))
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    assert sorted(receipt["tasks"].values()) == sorted(query["id"])

    # Pushing again (a rerun) finds the batch instead of importing it twice.
    run_alspec(*oracle_args("push", labelstudio, pool, tmp_path, "iterations/0"))
    assert json.loads((tmp_path / "receipt.json").read_text()) == receipt
    client = client_of(labelstudio)
    tasks = sorted(client.tasks.list(project=receipt["project"], fields="all"), key=lambda t: t.id)
    assert [t.data["spectrum_id"] for t in tasks] == list(query["id"]), "most uncertain first"
    first = tasks[1]
    assert first.data["metadata"]["predicted"] == "single_peak"
    assert set(first.data["metadata"]) == {*METADATA, "predicted", "probability"}
    # the charts are files the page loads by URL; the task itself stays small
    assert len(json.dumps(first.data)) < 3000
    window, whole = (chart_file(labelstudio, first.data[key]) for key in ("window", "spectrum"))
    assert list(window.columns) == ["wavelength", "flux"] and len(window) == 140
    assert len(whole) > 3000 and whole["wavelength"].is_monotonic_increasing, "whole spectrum"
    stored = open_store(pool / "window.zarr").isel(spectrum=1).flux.values
    np.testing.assert_allclose(window["flux"], stored, rtol=1e-4, atol=1e-4)
    assert tasks[5].data["purpose"].startswith("performance estimate: drawn at random")
    place = pd.read_parquet(pool / "catalog.parquet").set_index("id").loc[query["id"][1]]
    sky = first.data["sky"]
    assert "hips2fits?hips=CDS%2FP%2FDSS2%2Fcolor" in sky and f"ra={place['ra']}" in sky
    assert urlencode({"target": f"{place['ra']:.6f} {place['dec']:+.6f}"}) in sky, "Aladin Lite"
    assert sky.count("<a href=") == 3, "SIMBAD, VizieR, Aladin Lite"
    assert tasks[0].data["purpose"] == "the model is unsure"

    task_of = {spectrum: int(task) for task, spectrum in receipt["tasks"].items()}
    (guess,) = client.predictions.list(task=task_of[query["id"][1]])
    assert guess.result[0]["value"]["choices"] == ["single_peak"], "the model's guess is preset"
    assert guess.score == pytest.approx(0.6)
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

    # The server restarts between push and pull: the batch and its answers survive.
    restart(labelstudio)
    client = client_of(labelstudio)
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
    assert labels.loc[spectra[5], "reason"] == "estimate"
    username = (labelstudio["token_file"].parent / "username").read_text().strip()
    assert (labels["annotator"] == username).all()

    # Every answer also lands in the pool's label catalogue; pulling again adds nothing.
    run_alspec(*oracle_args("pull", labelstudio, pool, tmp_path, "iterations/0"))
    catalogue = pd.read_parquet(tmp_path / "catalogue.parquet").set_index("id")
    assert catalogue["label"].to_dict() == answers
    assert (catalogue["session"] == "round trip").all()
    assert catalogue.loc[spectra[2], "comment"] == "peaks look asymmetric"


def test_the_first_batch_shows_no_null_and_no_sky_without_coordinates(pool, tmp_path):
    """A value that does not exist is left out of the page, not shown as null."""
    from alspec.oracles.labelstudio_page import Page, sky_panel, tasks

    query = write_query(pool, tmp_path / "query.parquet", 0, 2).assign(predicted=None)
    query = query.drop(columns="probability").assign(reason="cold_start")
    sky = {"survey": "CDS/P/DSS2/color", "fov_arcmin": 4, "pixels": 256}
    page = Page(pool / "window.zarr", pool, tmp_path, tuple(METADATA), sky)
    made = tasks(query, page, "cold_start", tmp_path / "project")
    for task in made:
        assert set(task["data"]["metadata"]) == set(METADATA), "no predicted: null"
        assert None not in task["data"]["metadata"].values()
        assert task["data"]["sky"].startswith('<div class="alspec-sky"><img src=')
        assert task["predictions"] == []
    assert sky_panel(float("nan"), float("nan"), sky) == sky_panel(None, 10.0, sky) == ""


def test_anomaly_mode_asks_for_relevance_zero_to_five(labelstudio, pool, tmp_path):
    ids = list(open_store(pool / "window.zarr").id.values[10:13])
    query = pd.DataFrame(
        {"id": ids, "score": [0.9, 0.8, 0.7], "reason": "top_ranked", "predicted": ["3", "", "0"]}
    )
    query.to_parquet(tmp_path / "query.parquet", index=False)
    arguments = {"mode": "anomaly", "project": "relevance"}
    run_alspec(*oracle_args("push", labelstudio, pool, tmp_path, "iterations/0", **arguments))
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    client = client_of(labelstudio)
    config = client.projects.get(id=receipt["project"]).label_config
    assert '<Choice value="5" hotkey="5"/>' in config and 'hotkey="6"' in config
    tasks = sorted(client.tasks.list(project=receipt["project"], fields="all"), key=lambda t: t.id)
    assert tasks[0].data["purpose"].startswith("anomaly: how relevant is it to you")
    task_of = {spectrum: int(task) for task, spectrum in receipt["tasks"].items()}
    (guess,) = client.predictions.list(task=task_of[ids[0]])
    assert guess.result[0]["value"]["choices"] == ["3"], "the predicted relevance is preset"
    for spectrum, answer in zip(ids, ["5", "0", "unsure"], strict=True):
        client.annotations.create(id=task_of[spectrum], result=choose(answer))
    run_alspec(*oracle_args("pull", labelstudio, pool, tmp_path, "iterations/0", **arguments))
    labels = pd.read_parquet(tmp_path / "labels.parquet").set_index("id")["label"]
    assert labels.to_dict() == dict(zip(ids, ["5", "0", "unsure"], strict=True))


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


def test_a_request_the_server_refuses_is_one_clear_line(labelstudio, pool, tmp_path):
    """Label Studio wants a project's name of 3 characters or more: the config says so
    before any request; past it (the library called directly) the server's refusal is
    one line saying why."""
    from alspec.oracles import labelstudio as studio

    query = write_query(pool, tmp_path / "query.parquet", 40, 1)
    args = oracle_args("push", labelstudio, pool, tmp_path, "iterations/9", project="ab")
    pushed = run_alspec(*args, check=False)
    assert pushed.returncode == 1 and "Traceback" not in pushed.stderr
    assert "oracle.labelstudio.project: 'ab' is too short" in pushed.stderr
    page = studio.Page(pool / "window.zarr", pool, labelstudio["files"], tuple(METADATA))
    refused = r"Label Studio refused to open project 'ab' \(HTTP 400\)"
    with pytest.raises(studio.Refused, match=refused) as raised:
        studio.push(
            query,
            page,
            "iterations/9",
            labelstudio["url"],
            "ab",
            labelstudio["token_file"],
            CLASSES,
        )
    assert "at least 3 characters" in str(raised.value)


def test_a_server_that_is_down_is_reported_with_the_fix(pool, tmp_path, labelstudio):
    write_query(pool, tmp_path / "query.parquet", 20, 2)
    down = labelstudio | {"url": f"http://127.0.0.1:{free_port()}"}
    pushed = run_alspec(*oracle_args("push", down, pool, tmp_path, "iterations/8"), check=False)
    assert pushed.returncode == 1
    assert "is not answering" in pushed.stderr and "scripts/labelstudio start" in pushed.stderr


def answer(client: LabelStudio, receipt_path: Path, truth: pd.Series) -> None:
    """A person labels every task of the batch, rightly, one annotation at a time."""
    receipt = json.loads(receipt_path.read_text())
    for task, spectrum in receipt["tasks"].items():
        client.annotations.create(id=int(task), result=choose(truth[spectrum]))


def start_watch(workdir: Path, log: Path) -> subprocess.Popen:
    """`alspec watch` as a user starts it in the project folder; polls rarely, so the
    webhook is what wakes it."""
    command = [
        BIN / "alspec",
        "watch",
        "--configfile",
        "config/config.yaml",
        "tiny.yaml",
        "--snakemake",
        f"{BIN / 'snakemake'} --snakefile {REPO / 'Snakefile'} --cores 2",
        "--poll",
        "120",
    ]
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(workdir)}
    with open(log, "a") as out:
        return subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=out)


def wait_for(text: str, watch: subprocess.Popen, log: Path, seconds: float = 900) -> None:
    """Wait until watch's output says `text`, as a person would watch the terminal."""
    deadline = time.monotonic() + seconds
    while text not in log.read_text():
        assert watch.poll() is None, f"watch stopped early:\n{log.read_text()[-4000:]}"
        assert time.monotonic() < deadline, f"no {text!r}:\n{log.read_text()[-4000:]}"
        time.sleep(1)


def test_watch_runs_the_loop_as_a_person_labels(labelstudio, tmp_path):
    """The cold start and iteration 0 answered in Label Studio, `watch` stopped by Ctrl-C
    in between and started again; one iteration (each more costs a minute of CI)."""
    overrides = TINY | {
        "iterations": 1,
        "initial": {"size": 8},
        "oracle": {
            "backend": "labelstudio",
            "truth": None,
            "labelstudio": {
                "url": labelstudio["url"],
                "project": "watched session",
                "token_file": str(labelstudio["token_file"]),
                "files": str(labelstudio["files"]),
                "metadata": ["ra", "dec", "subclass"],
            },
        },
    }
    project(tmp_path, overrides)
    results, log = tmp_path / "results", tmp_path / "watch.log"
    client = client_of(labelstudio)

    watch = start_watch(tmp_path, log)
    try:
        wait_for("batch cold_start: 0 of 8 labelled", watch, log)
        receipt = results / "cold_start" / "batch.json"
        pid = json.loads(receipt.read_text())["project"]
        assert len(client.webhooks.list(project=pid)) == 1, "watch listens for answers"
        truth = pd.read_parquet(results / "survey" / "truth.parquet").set_index("id")["label"]
        answer(client, receipt, truth)
        wait_for("batch iterations/0: 0 of ", watch, log)

        # Ctrl-C while it waits: a clean stop, its webhook removed.
        watch.send_signal(signal.SIGINT)
        assert watch.wait(60) == 130
        assert "alspec watch: stopped" in log.read_text()
        assert "Traceback" not in log.read_text()
        assert client.webhooks.list(project=pid) == []

        answer(client, results / "iterations" / "0" / "batch.json", truth)
        watch = start_watch(tmp_path, log)
        assert watch.wait(900) == 0, log.read_text()[-4000:]
    finally:
        watch.kill()

    output = log.read_text()
    assert "0 of 8 labelled: label the rest at" in output, "the first run waited for the person"
    assert "all 1 iteration done" in output
    assert "polling instead" not in output
    asked = pd.read_parquet(results / "cold_start" / "labels.parquet")
    training = pd.read_parquet(results / "iterations" / "0" / "training_set.parquet")
    taught = asked.loc[asked["label"] != "unsure", "id"]
    assert set(taught) <= set(training["id"]), "the answers reach the next training set"
    assert (training.set_index("id")["label"] == truth[training["id"]]).all()
    assert (results / "iterations" / "0" / "performance.json").exists()
    assert len(pd.read_parquet(results / "iterations" / "0" / "labels.parquet")) > 0

    catalogue = pd.read_parquet(results / "pool" / "labels.parquet")
    assert set(catalogue["batch"]) == {"cold_start", "iterations/0"}
    assert (catalogue["session"] == "watched session").all()
    username = (labelstudio["token_file"].parent / "username").read_text().strip()
    assert (catalogue["annotator"] == username).all()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing: run `make env`")
def test_the_labelling_page_shows_both_charts_the_metadata_and_the_guess(
    labelstudio, pool, tmp_path
):
    from playwright.sync_api import sync_playwright

    write_query(pool, tmp_path / "query.parquet", 30, 3)
    run_alspec(*oracle_args("push", labelstudio, pool, tmp_path, "page"))
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    task = sorted(map(int, receipt["tasks"]))[1]  # the model guessed single_peak, p = 0.6
    secrets = labelstudio["token_file"].parent
    url = labelstudio["url"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/user/login/")
        page.fill("input[name=email]", (secrets / "username").read_text().strip())
        page.fill("input[name=password]", (secrets / "password").read_text().strip())
        page.click("button[type=submit]")
        page.wait_for_url(lambda address: "/user/login" not in address)
        page.goto(f"{url}/projects/{receipt['project']}/data?tab=1&task={task}")
        charts = page.locator(".htx-timeseries")
        drawn = ".htx-timeseries-channel path[d*='L']"  # a line, not a marker
        charts.nth(1).locator(drawn).first.wait_for(state="attached", timeout=60_000)
        page.wait_for_timeout(1000)  # let the charts finish drawing for the screenshot
        screenshot = SCREENSHOTS / "labelling-page.png"
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=screenshot, full_page=True)

        assert charts.count() == 2, "the whole spectrum and the window"
        for chart in charts.all():
            line = chart.locator(drawn).first.get_attribute("d")
            assert line.count("L") > 100, "a drawn spectrum"
        legends = page.locator(".htx-timeseries").all_inner_texts()
        assert "whole spectrum" in legends[0] and "Hα window" in legends[1]
        table = page.locator(".lsf-label-view__table, .ant-table", has_text="snrr")
        metadata = table.first.inner_text()
        for field in [*METADATA, "predicted", "probability"]:
            assert field in metadata
        assert "single_peak" in metadata and "0.6" in metadata
        cutout = page.locator(".alspec-sky img")
        assert "hips2fits" in cutout.get_attribute("src"), "the sky, loaded by the browser"
        links = page.locator(".alspec-sky a").all_inner_texts()
        assert links == ["SIMBAD", "VizieR", "Aladin Lite"]
        chosen = page.locator(".lsf-choice", has=page.locator("input:checked"))
        assert chosen.count() == 1 and chosen.inner_text().startswith("single_peak")
        for key, name in enumerate([*CLASSES, "unsure"], start=1):
            assert page.locator(".lsf-choice", has_text=name).first.inner_text() == f"{name}[{key}]"
        assert page.locator("textarea, input[placeholder='Comment (optional)']").count() >= 1
        # the task list shows what to work by, not the charts' addresses or the metadata
        page.goto(f"{url}/projects/{receipt['project']}/data")
        page.get_by_text("spectrum_id", exact=True).first.wait_for(timeout=60_000)
        page.screenshot(path=SCREENSHOTS / "task-list.png")
        for column in ("spectrum_id", "purpose", "score"):
            assert page.get_by_text(column, exact=True).count() >= 1, column
        for column in ("window", "spectrum", "metadata"):
            assert page.get_by_text(column, exact=True).count() == 0, column
        browser.close()
    assert screenshot.stat().st_size > 50_000


def test_webhooks_reach_the_receivers_address_and_no_other_private_one(labelstudio):
    """SSRF protection stays on (scripts/labelstudio): 127.0.0.1, where `alspec watch`
    listens, is the one private address a webhook may call."""
    import http.server
    import threading

    from label_studio_sdk.core.api_error import ApiError

    client = client_of(labelstudio)
    page = '<View><Text name="text" value="$text"/><Choices name="c" toName="text">'
    page += '<Choice value="a"/></Choices></View>'
    project_id = client.projects.create(title="webhooks", label_config=page).id
    hooks = {"actions": ["ANNOTATION_CREATED"], "project": project_id, "send_payload": True}
    for address in ("10.0.0.1", "192.168.1.20", "127.0.0.2", "169.254.169.254"):
        with pytest.raises(ApiError) as refused:
            client.webhooks.create(url=f"http://{address}:8080/hook", **hooks)
        assert refused.value.status_code in (400, 403), address
    calls = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            calls.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        client.webhooks.create(url=f"http://127.0.0.1:{receiver.server_port}/hook", **hooks)
        (task,) = client.projects.import_tasks(
            id=project_id, request=[{"data": {"text": "a"}}], return_task_ids=True
        ).task_ids
        answer = {"from_name": "c", "to_name": "text", "type": "choices"}
        client.annotations.create(id=task, result=[answer | {"value": {"choices": ["a"]}}])
        deadline = time.monotonic() + 30
        while "ANNOTATION_CREATED" not in actions(calls) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        receiver.shutdown()
    assert "ANNOTATION_CREATED" in actions(calls), "the answer rang the receiver"
