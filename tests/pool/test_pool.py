"""The sharded pool: one dataset over all shards, the window store, and what is rejected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alspec.errors import InputError
from alspec.pool.formats import read_spectra
from alspec.pool.ingest import discover_files
from alspec.pool.store import open_pool, open_store, select

from conftest import GRID
from layouts import write_votable


def test_pool_holds_every_spectrum_on_the_common_grid(survey, pool):
    truth = pd.read_parquet(survey / "truth.parquet")
    spectra = open_pool(pool)
    assert spectra.flux.dims == ("spectrum", "wavelength")
    assert spectra.sizes == {"spectrum": len(truth), "wavelength": GRID.size}
    assert sorted(spectra.id.values) == sorted(truth["id"])
    np.testing.assert_allclose(spectra.wavelength.values, GRID)
    catalog = pd.read_parquet(pool / "catalog.parquet")
    assert list(catalog["id"]) == list(spectra.id.values), "the catalogue is the pool's index"
    assert sorted(catalog["shard"].unique()) == ["00000", "00001"]
    assert {"ra", "dec", "subclass", "snrr", "file", "row"} <= set(catalog.columns)
    assert catalog["ra"].between(0, 360).all() and catalog["dec"].between(-90, 90).all()


def test_window_is_standardised_and_marks_valid_spectra(pool):
    window = open_store(pool / "window.zarr")
    assert window.flux.dims == ("spectrum", "window_wavelength")
    assert window.sizes["window_wavelength"] == 140
    flux = window.flux.values[window.valid.values]
    np.testing.assert_allclose(flux.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(flux.std(axis=1), 1, rtol=1e-4)
    assert window.valid.values.mean() > 0.95


def test_select_returns_rows_in_the_order_asked(pool):
    ids = list(open_store(pool / "window.zarr").id.values)
    wanted = [ids[5], ids[0], ids[130]]
    assert list(select([pool / "window.zarr"], wanted).id.values) == wanted
    with pytest.raises(InputError, match="not in the pool"):
        select([pool / "window.zarr"], ["no-such-id"])


def test_files_come_from_directories_lists_and_globs(survey, tmp_path):
    files = sorted((survey / "spectra").iterdir())
    listing = tmp_path / "pool.txt"
    listing.write_text("# my survey\n" + "\n".join(map(str, files[:4])) + "\n")
    assert discover_files([listing]) == files[:4]
    assert discover_files([survey / "spectra"]) == files
    assert discover_files([str(survey / "spectra" / "*.fits")]) == files
    with pytest.raises(FileNotFoundError, match="names no spectrum files"):
        discover_files([tmp_path / "nothing-*.fits"])


def test_every_format_read_is_a_spectrum_file_not_a_list_of_paths(tmp_path):
    """pool.files may name a spectrum file of any suffix the readers take: a VOTable
    saved as .xml is read as spectra, where a text file would be read as a list."""
    write_votable(tmp_path / "pool.xml")
    assert discover_files([tmp_path / "pool.xml"]) == [tmp_path / "pool.xml"]
    ids = {record.id for record in read_spectra(tmp_path / "pool.xml")}
    assert ids == {"vo-row-a", "vo-row-b", "vo-row-c"}
