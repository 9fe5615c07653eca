#!/usr/bin/env python3
"""Push and pull of one batch in a Label Studio project that already holds many tasks.

    .venv/bin/python scripts/benchmark_labelstudio.py [--filler 0 20000] [--batch 130]

Starts a server of its own (scripts/labelstudio, a fresh data folder, a free port), then
for each filler size: a new project, that many tasks of earlier batches imported into it
(small tasks, in chunks of 1,000), and one batch of `--batch` spectra of the demo pool
(results/pool and its window store, from `make demo`) pushed with `alspec push`, every
task answered through the API, pulled with `alspec pull`; each step timed as a process,
imports included. Writes results/benchmarks/labelstudio.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from benchmark_ingest import BIN, ROOT, cpu_model, run

OUT = ROOT / "results" / "benchmarks" / "labelstudio"
POOL = ROOT / "results" / "pool"
CHUNK = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env() -> dict[str, str]:
    return os.environ | {
        "ALSPEC_LS_PORT": str(free_port()),
        "ALSPEC_LS_DATA": str(OUT / "server"),
        "ALSPEC_LS_SECRETS": str(OUT / "secrets"),
        "ALSPEC_LS_FILES": str(OUT / "files"),
    }


def query_of(size: int) -> Path:
    """A batch of `size` spectra of the demo pool, as the query step writes it."""
    from alspec.pool.store import open_store

    ids = [str(i) for i in open_store(POOL / "window.zarr").id.values[:size]]
    out = OUT / "query.parquet"
    pd.DataFrame(
        {"id": ids, "score": 1.0, "reason": "uncertain", "predicted": "other", "probability": 0.6}
    ).to_parquet(out)
    return out


def fill(client, project: int, tasks: int, template: dict) -> None:
    """`tasks` tasks of earlier batches, each like `template` (a pushed task's data)."""
    for start in range(0, tasks, CHUNK):
        stop = min(start + CHUNK, tasks)
        client.projects.import_tasks(
            id=project,
            request=[
                {"data": template | {"spectrum_id": f"old-{i}", "batch": f"old-{i // 130}"}}
                for i in range(start, stop)
            ],
        )


def measure(url: str, token_file: Path, filler: int, query: Path) -> dict:
    from label_studio_sdk import LabelStudio

    from alspec.oracles.labelstudio_page import LABEL_FROM, SPECTRUM_TO

    title = f"benchmark {filler}"
    settings = [
        *("--set", "oracle.backend=labelstudio", "--set", f"oracle.labelstudio.url={url}"),
        *("--set", f"oracle.labelstudio.token_file={token_file}"),
        *("--set", f"oracle.labelstudio.project={title}"),
        *("--set", f"oracle.labelstudio.files={OUT / 'files'}"),
    ]
    common = ["--query", query, "--batch", "iterations/1", "--receipt", OUT / "receipt.json"]
    client = LabelStudio(base_url=url, api_key=token_file.read_text().strip())
    push = [BIN / "alspec", "push", *common, "--window", POOL / "window.zarr", "--pool", POOL]
    push += settings
    # the project made by a first push, emptied, then filled with earlier batches
    run([*map(str, push)])
    receipt = json.loads((OUT / "receipt.json").read_text())
    template = client.tasks.get(id=int(next(iter(receipt["tasks"])))).data
    client.tasks.delete_all_tasks(id=receipt["project"])
    fill(client, receipt["project"], filler, template)
    pushed, push_memory = run([*map(str, push)])
    receipt = json.loads((OUT / "receipt.json").read_text())
    answer = {"from_name": LABEL_FROM, "to_name": SPECTRUM_TO, "type": "choices"}
    for task in receipt["tasks"]:
        client.annotations.create(id=int(task), result=[answer | {"value": {"choices": ["other"]}}])
    pull = [BIN / "alspec", "pull", *common, "--catalogue", OUT / "catalogue.parquet"]
    pulled, pull_memory = run([*map(str, [*pull, "--out", OUT / "labels.parquet", *settings])])
    again, _ = run([*map(str, push)])  # a rerun finds the batch
    data = client.tasks.list(project=receipt["project"], page_size=1)
    size = len(json.dumps(next(iter(data)).data)) if filler == 0 else None
    return {
        "tasks_before": filler,
        "batch": len(receipt["tasks"]),
        "push_s": round(pushed, 1),
        "push_peak_mb": push_memory,
        "push_again_s": round(again, 1),
        "pull_s": round(pulled, 1),
        "pull_peak_mb": pull_memory,
        "task_data_bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filler", type=int, nargs="+", default=[0, 20_000])
    parser.add_argument("--batch", type=int, default=130)
    args = parser.parse_args()
    if not (POOL / "window.zarr").exists():
        sys.exit(f"{POOL}/window.zarr: run `make demo` first")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    env = server_env()
    script = ROOT / "scripts" / "labelstudio"
    subprocess.run([script, "start"], env=env, check=True)
    url = f"http://127.0.0.1:{env['ALSPEC_LS_PORT']}"
    try:
        query = query_of(args.batch)
        rows = [measure(url, OUT / "secrets" / "token", n, query) for n in args.filler]
    finally:
        subprocess.run([script, "stop"], env=env, check=False)
    report = {"machine": f"{cpu_model()}, {os.cpu_count()} cores", "rows": rows}
    (OUT.parent / "labelstudio.json").write_text(json.dumps(report, indent=2))
    (OUT.parent / "labelstudio.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    lines = [
        "# Push and pull in a busy Label Studio project (scripts/benchmark_labelstudio.py)",
        "",
        f"{report['machine']}; each step one `alspec` process, imports included.",
        "",
        "| tasks already in the project | batch | push s (peak MB) | push again s | pull s"
        " (peak MB) |",
        "|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['tasks_before']:,} | {row['batch']} | {row['push_s']}"
            f" ({row['push_peak_mb']}) | {row['push_again_s']} | {row['pull_s']}"
            f" ({row['pull_peak_mb']}) |"
        )
    sizes = [row["task_data_bytes"] for row in report["rows"] if row["task_data_bytes"]]
    if sizes:
        lines += ["", f"One task's data: {sizes[0]:,} bytes of JSON."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
