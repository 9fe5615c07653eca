"""Ingest into Zarr, the window store, and what happens to bad files."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from alspec.pool import discover_files, ingest, open_pool, select
from alspec.preprocess import log_wavelength_grid

GRID = log_wavelength_grid(3690, 9100, 1e-4)


def test_pool_holds_every_spectrum_on_the_common_grid(survey, pool):
    truth = pd.read_parquet(survey / "truth.parquet")
    spectra = open_pool(pool / "spectra.zarr")
    assert spectra.flux.dims == ("spectrum", "wavelength")
    assert spectra.sizes == {"spectrum": len(truth), "wavelength": GRID.size}
    assert sorted(spectra.id.values) == sorted(truth["id"])
    np.testing.assert_allclose(spectra.wavelength.values, GRID)
    catalog = pd.read_parquet(pool / "catalog.parquet")
    assert list(catalog["id"]) == list(spectra.id.values)
    assert {"ra", "dec", "subclass", "snrr", "file", "row"} <= set(catalog.columns)
    assert (catalog["row"] == np.arange(len(catalog))).all()


def test_window_is_standardised_and_marks_valid_spectra(pool):
    window = open_pool(pool / "window.zarr")
    assert window.flux.dims == ("spectrum", "window_wavelength")
    assert window.sizes["window_wavelength"] == 140
    flux = window.flux.values[window.valid.values]
    np.testing.assert_allclose(flux.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(flux.std(axis=1), 1, rtol=1e-4)
    assert window.valid.values.mean() > 0.95


def test_select_returns_rows_in_the_order_asked(pool):
    ids = list(open_pool(pool / "window.zarr").id.values)
    wanted = [ids[5], ids[0], ids[130]]
    assert list(select(pool / "window.zarr", wanted).id.values) == wanted
    with pytest.raises(KeyError, match="not in the pool"):
        select(pool / "window.zarr", ["no-such-id"])


@pytest.mark.filterwarnings("ignore:File may have been truncated")
def test_bad_files_are_quarantined_with_a_reason(survey, tmp_path):
    files = sorted((survey / "spectra").iterdir())[:3]
    folder = tmp_path / "spectra"
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder)
    (folder / "truncated.fits").write_bytes(files[0].read_bytes()[:4000])
    fits.PrimaryHDU(np.zeros((3, 10), dtype=np.float32)).writeto(folder / "wrong-shape.fits")
    shutil.copy(files[0], folder / "copy-of-first.fits")
    with pytest.warns(UserWarning, match=r"3 file\(s\) quarantined"):
        catalog = ingest(
            discover_files([folder]),
            tmp_path / "s.zarr",
            tmp_path / "c.parquet",
            tmp_path / "q.parquet",
            GRID,
            ["RA"],
            block_size=2,
        )
    assert len(catalog) == 3
    quarantine = pd.read_parquet(tmp_path / "q.parquet").set_index("file")["reason"]
    assert "not a readable FITS" in quarantine[str(folder / "truncated.fits")]
    assert "not a LAMOST 5-row image" in quarantine[str(folder / "wrong-shape.fits")]
    duplicate = quarantine[quarantine.str.startswith("duplicate id")]
    assert len(duplicate) == 1, "the second of two files with one OBSID"
    assert {duplicate.index[0], duplicate.iloc[0].rsplit(" ", 1)[1]} == {
        str(folder / files[0].name),
        str(folder / "copy-of-first.fits"),
    }
    assert open_pool(tmp_path / "s.zarr").sizes["spectrum"] == 3


def test_files_come_from_directories_lists_and_globs(survey, tmp_path):
    files = sorted((survey / "spectra").iterdir())
    listing = tmp_path / "pool.txt"
    listing.write_text("# my survey\n" + "\n".join(map(str, files[:4])) + "\n")
    assert discover_files([listing]) == files[:4]
    assert discover_files([survey / "spectra"]) == files
    assert discover_files([str(survey / "spectra" / "*.fits")]) == files
    with pytest.raises(FileNotFoundError, match="names no spectrum files"):
        discover_files([tmp_path / "nothing-*.fits"])
