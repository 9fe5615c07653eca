"""Bad input lands in quarantine with its reason; the counts add up; a killed shard
job leaves nothing behind and reruns cleanly."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from alspec.errors import ReconciliationError
from alspec.pool.ingest import gather_shards as gather
from alspec.pool.store import open_pool

from conftest import BIN, REPO, build_pool, run_alspec
from layouts import lamost_header, lamost_wavelength, line, write_lamost_image, write_sdss


def lamost_image(path, obsid, flux=None, ivar=None, wave=None):
    wave = lamost_wavelength() if wave is None else wave
    flux = line(wave, 6564.61) if flux is None else flux
    ivar = np.full(wave.size, 4.0) if ivar is None else ivar
    image = np.vstack([flux, ivar, wave, np.zeros(wave.size), np.zeros(wave.size)])
    fits.PrimaryHDU(image.astype(np.float32), header=lamost_header(obsid)).writeto(path)


@pytest.fixture(scope="module")
def bad_survey(tmp_path_factory):
    """Three good spectra and one file of each kind of bad input, with the expected reason."""
    folder = tmp_path_factory.mktemp("bad")
    for obsid in (1, 2, 3):
        write_lamost_image(folder / f"good-{obsid}.fits", obsid)
    (folder / "truncated.fits").write_bytes((folder / "good-1.fits").read_bytes()[:5000])
    (folder / "not-fits.fits").write_text("SIMPLE = this is not FITS\n")
    write_sdss(folder / "no-ivar.fits", 1, 2, 3, ivar_column=False)
    fits.PrimaryHDU(np.zeros((3, 100), np.float32)).writeto(folder / "three-rows.fits")
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros(10))]).writeto(folder / "no-hdu.fits")
    flux = line(lamost_wavelength(), 6564.61)
    flux[1000:1003] = np.nan
    lamost_image(folder / "nan.fits", 10, flux=flux)
    lamost_image(folder / "zero-ivar.fits", 11, ivar=np.zeros(3909))
    lamost_image(folder / "infrared.fits", 12, wave=np.linspace(10000, 12000, 3909))
    shutil.copy(folder / "good-2.fits", folder / "zz-copy-of-2.fits")
    columns = {f"{w:.1f}": [1.0, np.nan] for w in np.arange(6560.0, 6572.0, 1.0)}
    table = pd.DataFrame({"id": ["t1", "t2"]} | columns)
    table.to_csv(folder / "table.csv", index=False)
    expected = {
        "truncated.fits": "unreadable",
        "not-fits.fits": "unreadable",
        "no-ivar.fits": "lacks column(s) ['ivar']",
        "three-rows.fits": "not a LAMOST 5-row image",
        "no-hdu.fits": "no known layout",
        "nan.fits": "NaN or inf in flux or inverse variance at 3 unmasked pixel(s)",
        "zero-ivar.fits": "inverse variance is zero everywhere",
        "infrared.fits": "no usable pixel on the grid 3690-9099 Å (the spectrum covers 10000-12000",
        "zz-copy-of-2.fits": "duplicate id 2, first read from",
        "table.csv": "NaN or inf",
    }
    return folder, expected


def test_every_bad_input_is_quarantined_with_its_reason(bad_survey, tmp_path):
    folder, expected = bad_survey
    catalog = build_pool([folder], tmp_path, shard_size=100)
    assert sorted(catalog["id"]) == ["1", "2", "3", "t1"]
    quarantine = pd.read_parquet(tmp_path / "quarantine.parquet")
    reasons = dict(
        zip(
            quarantine["file"].map(lambda f: f.rsplit("/", 1)[1]), quarantine["reason"], strict=True
        )
    )
    assert set(reasons) == set(expected)
    for name, reason in expected.items():
        assert reason in reasons[name], (name, reasons[name])
    assert quarantine.set_index("file").loc[str(folder / "table.csv"), "row"] == 1


def test_duplicates_across_shards_are_quarantined_at_gather(bad_survey, tmp_path):
    folder, _ = bad_survey
    catalog = build_pool(
        [folder / "good-1.fits", folder / "good-2.fits", folder / "zz-copy-of-2.fits"],
        tmp_path,
        shard_size=2,
    )
    assert sorted(catalog["id"]) == ["1", "2"]
    quarantine = pd.read_parquet(tmp_path / "quarantine.parquet")
    assert quarantine["reason"].str.contains("duplicate id 2").sum() == 1
    assert sorted(open_pool(tmp_path).id.values) == ["1", "2"], "the pool holds it once"


def test_gather_fails_loudly_when_files_are_unaccounted_for(bad_survey, tmp_path):
    folder, _ = bad_survey
    build_pool([folder / "good-1.fits", folder / "good-2.fits"], tmp_path, shard_size=10)
    lists = tmp_path / "shards" / "lists"
    with (lists / "00000.txt").open("a") as listing:
        listing.write(f"{folder / 'good-3.fits'}\n")  # listed, never ingested
    with pytest.raises(ReconciliationError, match=r"1 file\(s\) neither ingested nor quarantined"):
        gather(
            lists, [tmp_path / "shards" / "00000"], tmp_path / "c.parquet", tmp_path / "q.parquet"
        )


def test_a_killed_shard_job_leaves_nothing_and_reruns_cleanly(survey, tmp_path):
    files = sorted((survey / "spectra").iterdir())
    listing = tmp_path / "00000.txt"
    listing.write_text("".join(f"{f}\n" for f in files))
    shard = tmp_path / "shards" / "00000"
    command = [
        str(BIN / "alspec"),
        "ingest",
        str(listing),
        "--out",
        str(shard),
        "--set",
        "pool.block_size=8",
    ]
    job = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = tmp_path / "shards" / ".partial-00000" / "catalog"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(partial.glob("*.parquet"))) < 3:
        time.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert len(list(partial.glob("*.parquet"))) >= 3, "killed midway, with blocks written"
    assert not shard.exists(), "no partial store under the real name"

    subprocess.run(command, check=True, capture_output=True)
    assert not (tmp_path / "shards" / ".partial-00000").exists()
    catalog = gather(tmp_path, [shard], tmp_path / "catalog.parquet", tmp_path / "q.parquet")
    assert len(catalog) == len(files) and catalog["id"].is_unique
    assert open_pool(tmp_path).sizes["spectrum"] == len(files)


def test_a_table_of_curves_is_copied_onto_an_evenly_spaced_grid(tmp_path):
    """Seed 004's Table 1 curves as one CSV: on pool.grid start 0, stop 1, points 100 every
    value lands on its own grid point, unresampled; a wrong grid key is named."""
    curves = ("--config", REPO / "config" / "config.yaml", REPO / "config" / "curves.yaml")
    run_alspec("simulate", *curves, "--set", "simulate.n_spectra=300", "--out", tmp_path)
    lists = tmp_path / "shards" / "lists"
    lists.mkdir(parents=True)
    listing = lists / "00000.txt"
    listing.write_text(f"{tmp_path / 'spectra' / 'curves.csv'}\n")
    shard = tmp_path / "shards" / "00000"
    wrong = run_alspec(
        "ingest", listing, "--out", shard, *curves, "--set", "pool.grid.step=0.01", check=False
    )
    assert wrong.returncode != 0
    assert "pool.grid.step: no such setting" in wrong.stderr
    run_alspec("ingest", listing, "--out", shard, *curves)
    gather(
        tmp_path / "shards" / "lists", [shard], tmp_path / "catalog.parquet", tmp_path / "q.parquet"
    )
    table = pd.read_csv(tmp_path / "spectra" / "curves.csv").set_index("id")
    pool = open_pool(tmp_path)
    np.testing.assert_array_equal(pool.wavelength, np.linspace(0, 1, 100))
    flux = pd.DataFrame(pool.flux.values, index=pool.id.values).loc[table.index]
    np.testing.assert_allclose(flux, table.to_numpy(), rtol=1e-6)
    assert (pool.ivar.values > 0).all()
