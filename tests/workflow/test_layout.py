"""The results layout, and the light imports of the process that builds the DAG."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from alspec import layout

from conftest import REPO as ROOT

HEAVY = ("numpy", "pandas", "scipy", "sklearn", "dask", "xarray", "zarr", "tensorflow")


def test_rules_import_only_light_modules():
    """What the Snakefile and the rules import from alspec pulls in no numerical library:
    Snakemake's process only builds the DAG."""
    rules = [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    imports = [
        " ".join(statement.split())
        for path in rules
        for statement in re.findall(
            r"^\s*(?:from alspec[\w.]* import (?:\([^)]*\)|[^\n]+)|import alspec[^\n]*)",
            path.read_text(),
            flags=re.MULTILINE,
        )
    ]
    assert any("alspec.layout" in line for line in imports), imports
    script = "\n".join([*imports, "import json, sys", "print(json.dumps(sorted(sys.modules)))"])
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", script], text=True))
    assert not {name.split(".")[0] for name in loaded} & set(HEAVY)


def test_iteration_folders_in_numeric_order(tmp_path):
    for n in (10, 2, 1):
        folder = tmp_path / "iterations" / str(n)
        folder.mkdir(parents=True)
        (folder / layout.PERFORMANCE).write_text("{}")
    (tmp_path / "iterations" / "3").mkdir()  # not finished: no performance record
    (tmp_path / "iterations" / "notes").mkdir()
    (tmp_path / "iterations" / "notes" / layout.PERFORMANCE).write_text("{}")
    assert [f.name for f in layout.iteration_folders(tmp_path)] == ["1", "2", "10"]


def test_paths_of_the_rules():
    assert layout.log_file("simulate") == "results/logs/simulate.log"
    assert layout.log_file("predict", "{n}-{part}") == "results/logs/predict/{n}-{part}.log"
    assert layout.ITERATION.format(n=3) == "results/iterations/3"
    assert layout.iteration_targets(-1) == ["results/iterations/0/batch.json"]
    assert layout.iteration_targets(2)[-1] == "results/iterations/3/batch.json"
    assert layout.under(Path("/data/run"), layout.COLD_START) == Path("/data/run/cold_start")
