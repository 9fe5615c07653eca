"""The pieces of an iteration's provenance record: checksums, seeds, versions, commit."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import xarray as xr

from alspec.evaluation import provenance


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


def test_a_sealed_store_is_checked_by_its_listing_not_read_again(tmp_path):
    store = tmp_path / "window.zarr"
    data = xr.Dataset({"flux": (("spectrum", "wavelength"), np.arange(12.0).reshape(3, 4))})
    data.to_zarr(store, consolidated=False)
    assert provenance.verified_checksum(store)["verified"] == "hashed"
    sealed = provenance.seal(store)
    assert sealed == provenance.checksum(store), "the seal holds the store's own checksum"
    assert (tmp_path / "window.zarr.checksum.json").is_file(), "beside the store, not in it"
    (store / ".snakemake_timestamp").touch()  # Snakemake marks the finished output
    assert provenance.verified_checksum(store) == {
        "path": str(store), "checksum": sealed, "verified": "sealed",
    }  # fmt: skip
    # same names, sizes and times: the data is not read (a change that keeps all three
    # is not seen, as by make and Snakemake)
    chunk = next(p for p in sorted((store / "flux" / "c").rglob("*")) if p.is_file())
    times = chunk.stat()
    chunk.write_bytes(bytes(len(chunk.read_bytes())))
    os.utime(chunk, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert provenance.verified_checksum(store)["checksum"] == sealed
    # a rewritten chunk is seen from the listing, and the store hashed anew
    data.assign(flux=data.flux * 2).to_zarr(store, mode="a", consolidated=False)
    changed = provenance.verified_checksum(store)
    assert changed["verified"] == "changed since sealed"
    assert changed["checksum"] == provenance.checksum(store) != sealed
