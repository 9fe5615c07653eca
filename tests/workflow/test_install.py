"""alspec installs as docs/install.md says, without the Makefile: into a fresh virtual
environment, from the repository, with pip resolving pyproject.toml's requirements
(constrained to the tested versions of envs/pipeline.txt)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, project

EVERY_MODULE = """
import importlib, pkgutil, alspec
names = [m.name for m in pkgutil.walk_packages(alspec.__path__, "alspec.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def checkout(to: Path) -> Path:
    """The repository's files, as a fresh clone has them: pip builds in the source tree,
    and the build must not land in the repository."""
    listed = run("git", "-C", REPO, "ls-files", "--cached", "--others", "--exclude-standard")
    for name in listed.splitlines():
        if (REPO / name).is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, to / name, follow_symlinks=False)
    return to


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(list(map(str, command)), capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_a_fresh_environment_installs_alspec_and_runs_it(tmp_path):
    source, venv = checkout(tmp_path / "alspec"), tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    bin_ = venv / "bin"
    run(
        bin_ / "pip", "install", "--quiet", "--disable-pip-version-check",
        "-c", source / "envs" / "pipeline.txt", f"{source}[slurm]",
    )  # fmt: skip
    assert "usage: alspec" in run(bin_ / "alspec", "--help")
    version = run(bin_ / "python", "-c", "import alspec; print(alspec.__version__)").strip()
    assert version == run(sys.executable, "-c", "import alspec; print(alspec.__version__)").strip()
    # a wheel, not the checkout: every module and the schema come from site-packages
    assert int(run(bin_ / "python", "-c", EVERY_MODULE, cwd=tmp_path)) >= 60
    config = REPO / "config" / "config.yaml"
    backend = run(bin_ / "alspec", "config", "--file", config, "--get", "oracle.backend")
    assert backend.strip() == "simulated", "the schema travels with the package"
    (tmp_path / "run").mkdir()
    workdir = project(tmp_path / "run", {})
    planned = run(
        bin_ / "snakemake", "--snakefile", source / "Snakefile", "--directory", workdir, "-n",
        "--quiet", "rules",
    )  # fmt: skip
    for rule in (
        "simulate",
        "shard_lists",
        "window",
        "train",
        "predict",
        "query",
        "pull",
        "catalogue",
    ):
        assert rule in planned, planned
