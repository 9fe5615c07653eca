"""The pieces of an iteration's provenance record: checksums, seeds, versions, commit."""

from __future__ import annotations

import subprocess

import numpy as np
import xarray as xr

from alspec import provenance


def test_a_store_checksum_follows_content_and_names_not_timestamps(tmp_path):
    data = xr.Dataset({"flux": (("spectrum", "wavelength"), np.arange(12.0).reshape(3, 4))})
    data.to_zarr(tmp_path / "a.zarr", consolidated=False)
    data.to_zarr(tmp_path / "b.zarr", consolidated=False)
    first = provenance.checksum(tmp_path / "a.zarr")
    assert first == provenance.checksum(tmp_path / "b.zarr"), "written twice, same checksum"
    data.assign(flux=data.flux + 1).to_zarr(tmp_path / "a.zarr", mode="w", consolidated=False)
    assert provenance.checksum(tmp_path / "a.zarr") != first
    (tmp_path / "c.txt").write_text("abc")
    assert provenance.checksum(tmp_path / "c.txt") == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_every_seed_of_the_config_is_found_by_its_key():
    config = {"model": {"seed": 7, "epochs": 3}, "features": {"pca": {"seed": 1}}, "seed": 2}
    assert provenance.seeds(config) == {"model.seed": 7, "features.pca.seed": 1, "seed": 2}


def test_versions_of_installed_packages_only():
    versions = provenance.package_versions(("numpy", "no-such-package-here"))
    assert versions == {"numpy": np.__version__}


def test_git_state_names_the_commit_and_local_changes(tmp_path):
    assert provenance.git_state(tmp_path) == {"commit": None, "modified": None}
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "Snakefile").write_text("rule all:\n")
    subprocess.run([*git, "add", "Snakefile"], check=True)
    subprocess.run([*git, "commit", "-qm", "first"], check=True)
    state = provenance.git_state(tmp_path)
    assert len(state["commit"]) == 40 and state["modified"] is False
    (tmp_path / "Snakefile").write_text("rule all:\n    input: []\n")
    assert provenance.git_state(tmp_path)["modified"] is True
