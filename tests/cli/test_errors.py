"""What a command says when it fails: an error the user can mend is one line naming the
file, key or row; a bug shows its traceback; -v shows the traceback of both. And what
it says when it works: its own progress and summary, not TensorFlow's or Zarr's notices."""

from __future__ import annotations

import shutil

import pytest

from conftest import run_alspec


def test_an_error_the_user_can_mend_is_one_line(tmp_path):
    failed = run_alspec("sql", "SELECT 1", "--results", tmp_path, "--out", tmp_path / "a.txt",
                        check=False)  # fmt: skip
    assert failed.returncode == 1
    assert (
        failed.stderr.strip() == f"alspec sql: error: {tmp_path / 'a.txt'}: write .csv or .parquet"
    )
    verbose = run_alspec("-v", "sql", "SELECT 1", "--results", tmp_path,
                         "--out", tmp_path / "a.txt", check=False)  # fmt: skip
    assert "Traceback" in verbose.stderr and "InputError" in verbose.stderr


def test_a_bug_shows_its_traceback(tmp_path):
    """Settings that lack a section the step reads are not a user's slip but a missing
    entry in alspec.config.settings.READS: the traceback says where."""
    failed = run_alspec("cold-start", "--window", tmp_path / "w.zarr", "--out",
                        tmp_path / "q.parquet", "--settings", "{}", check=False)  # fmt: skip
    assert failed.returncode == 1
    assert "Traceback" in failed.stderr and "KeyError: 'initial'" in failed.stderr


@pytest.mark.slow
def test_a_tensorflow_step_prints_its_own_lines_only(pool, survey, tmp_path):
    window = shutil.copytree(pool / "window.zarr", tmp_path / "window.zarr")
    (window / ".snakemake_timestamp").touch()  # as Snakemake marks a finished store
    truth = survey / "truth.parquet"
    done = run_alspec(
        "train", "--inputs", window, "--training-set", truth, "--set",
        "model.architecture=slim", "--set", "model.epochs=1", "--model", tmp_path / "m.keras",
        "--report", tmp_path / "t.json",
    )  # fmt: skip
    for said in (done.stdout, done.stderr):
        for notice in ("oneDNN", "absl::InitializeLog", "NodeDef", "not recognized", "AutoGraph"):
            assert notice not in said, said
    assert done.stdout.splitlines()[-1].startswith("train: cnn on 200 labels")
