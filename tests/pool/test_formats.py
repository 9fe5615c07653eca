"""Every spectrum layout, written here exactly as its archive does, ingested together."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alspec.pool.formats import Rejected, read_spectra
from alspec.pool.preprocess import air_to_vacuum
from alspec.pool.store import open_pool

from conftest import build_pool
from layouts import (
    HALPHA_VACUUM,
    write_csv,
    write_hdf5,
    write_lamost_coadd,
    write_lamost_image,
    write_ondrejov,
    write_sdss,
    write_votable,
)


@pytest.fixture(scope="module")
def every_layout(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("layouts")
    write_lamost_image(folder / "spec-55859-F5902_sp01-001.fits", 101)
    write_lamost_image(folder / "gz.fits", 102)
    with open(folder / "gz.fits", "rb") as raw, gzip.open(folder / "lamost.fits.gz", "wb") as gz:
        shutil.copyfileobj(raw, gz)
    (folder / "gz.fits").unlink()
    write_lamost_coadd(folder / "dr9-coadd.fits", 104)
    write_sdss(folder / "spec-3586-55181-0001.fits", 3586, 55181, 1)
    write_ondrejov(folder / "ond-linear.fit")
    write_ondrejov(folder / "ond-loglinear.fits.gz", log_linear=True)
    write_csv(folder / "pool.csv")
    write_hdf5(folder / "pool.h5")
    write_votable(folder / "pool.vot")
    return folder


EXPECTED_IDS = {
    "101",
    "102",
    "104",
    "3586-55181-0001",
    "ond-linear",
    "ond-loglinear",
    "row-a",
    "row-b",
    "row-c",
    "h5-row-a",
    "h5-row-b",
    "h5-row-c",
    "vo-row-a",
    "vo-row-b",
    "vo-row-c",
}


def test_every_layout_is_detected_and_read(every_layout):
    records = [r for path in sorted(every_layout.iterdir()) for r in read_spectra(path, ["SNRR"])]
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert not rejected, rejected
    assert {r.id for r in records} == EXPECTED_IDS
    by_id = {r.id: r for r in records}
    assert by_id["ond-linear"].air and by_id["ond-loglinear"].air and not by_id["101"].air
    assert by_id["3586-55181-0001"].meta["PLUG_RA"] == 150.25
    assert by_id["h5-row-b"].meta["SNRR"] == 20.0


def test_layouts_are_ingested_together_onto_the_vacuum_grid(every_layout, tmp_path):
    catalog = build_pool([every_layout], tmp_path, shard_size=4, metadata=["SUBCLASS", "SNRR"])
    assert set(catalog["id"]) == EXPECTED_IDS
    assert len(pd.read_parquet(tmp_path / "quarantine.parquet")) == 0
    pool = open_pool(tmp_path)
    wave = pool.wavelength.values
    for spectrum, flux, ivar in zip(
        pool.id.values, pool.flux.values, pool.ivar.values, strict=True
    ):
        good = ivar > 0
        peak = wave[good][np.argmax(flux[good])]
        # air spectra had their line at 6562.80 Å in air: on the grid it sits in vacuum
        assert peak == pytest.approx(HALPHA_VACUUM, abs=1.6), spectrum
    sdss = catalog.set_index("id").loc["3586-55181-0001"]
    assert (sdss["ra"], sdss["dec"], sdss["subclass"]) == (150.25, 2.5, "A0")


def test_air_to_vacuum_matches_the_standard_conversion():
    # Hα: 6562.80 Å in air is 6564.61 Å in vacuum; [O III] 5006.84 -> 5008.24
    np.testing.assert_allclose(
        air_to_vacuum(np.array([6562.80, 5006.84])), [6564.61, 5008.24], atol=0.01
    )


def test_files_without_errors_get_a_noise_estimate(every_layout):
    (ondrejov,) = read_spectra(every_layout / "ond-linear.fit")
    sigma = 1 / np.sqrt(ondrejov.ivar[0])
    assert sigma == pytest.approx(0.05, rel=0.15), "DER_SNR recovers the injected noise"


def test_the_fast_fits_path_agrees_with_astropy(survey, every_layout, tmp_path):
    from astropy.io import fits

    from alspec.pool.formats import _fits_spectrum, simple_image

    path = Path(shutil.copy(next((survey / "spectra").iterdir()), tmp_path))
    fits.setval(path, "OBJNAME", value="it's a B[e] star")
    keys = ["SUBCLASS", "SNRR", "OBJNAME", "MAG1"]
    (fast,) = read_spectra(path, keys)
    with fits.open(path) as hdus:
        slow = _fits_spectrum(hdus, path, keys)
    assert fast.id == slow.id
    for name in ("wavelength", "flux", "ivar"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    assert fast.meta == slow.meta and fast.meta["OBJNAME"] == "it's a B[e] star"
    for other in ("dr9-coadd.fits", "spec-3586-55181-0001.fits", "ond-linear.fit"):
        assert simple_image((every_layout / other).read_bytes(), set()) is None, other
    assert simple_image(path.read_bytes()[:9000], set()) is None, "truncated: astropy's call"
