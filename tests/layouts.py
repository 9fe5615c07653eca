"""Spectrum files written exactly in the layouts of the archives, for the tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.table import Table

HALPHA_VACUUM = 6564.61
HALPHA_AIR = 6562.80


def line(wavelength: np.ndarray, centre: float) -> np.ndarray:
    """A continuum of 10 with an emission line of peak 5 and sigma 3 Å."""
    return 10 + 5 * np.exp(-0.5 * ((wavelength - centre) / 3.0) ** 2)


def lamost_wavelength(n: int = 3909) -> np.ndarray:
    return 10 ** (3.5682 + 1e-4 * np.arange(n))


def lamost_header(obsid: int) -> fits.Header:
    return fits.Header(
        [
            ("OBSID", obsid),
            ("RA", 10.5),
            ("DEC", 41.2),
            ("CLASS", "STAR"),
            ("SUBCLASS", "B5"),
            ("SNRR", 42.0),
        ]
    )


def write_lamost_image(path: Path, obsid: int) -> None:
    wave = lamost_wavelength()
    image = np.vstack(
        [
            line(wave, HALPHA_VACUUM),
            np.full(wave.size, 4.0),
            wave,
            np.zeros(wave.size),
            np.zeros(wave.size),
        ]
    ).astype(np.float32)
    fits.PrimaryHDU(image, header=lamost_header(obsid)).writeto(path)


def write_lamost_coadd(path: Path, obsid: int) -> None:
    wave = lamost_wavelength()
    n = wave.size
    columns = [
        fits.Column(name=name, format=f"{n}E", array=values[None, :])
        for name, values in (
            ("FLUX", line(wave, HALPHA_VACUUM)),
            ("IVAR", np.full(n, 4.0)),
            ("WAVELENGTH", wave),
            ("ANDMASK", np.zeros(n)),
            ("ORMASK", np.zeros(n)),
        )
    ]
    coadd = fits.BinTableHDU.from_columns(columns, name="COADD")
    fits.HDUList([fits.PrimaryHDU(header=lamost_header(obsid)), coadd]).writeto(path)


def write_sdss(path: Path, plate: int, mjd: int, fiber: int, ivar_column: bool = True) -> None:
    loglam = np.arange(3.5800, 4.0170, 1e-4)
    wave = 10**loglam
    columns = [
        fits.Column(name="flux", format="E", array=line(wave, HALPHA_VACUUM)),
        fits.Column(name="loglam", format="E", array=loglam),
        fits.Column(name="and_mask", format="J", array=np.zeros(wave.size, int)),
        fits.Column(name="or_mask", format="J", array=np.zeros(wave.size, int)),
        fits.Column(name="wdisp", format="E", array=np.ones(wave.size)),
        fits.Column(name="sky", format="E", array=np.zeros(wave.size)),
        fits.Column(name="model", format="E", array=np.full(wave.size, 10.0)),
    ]
    if ivar_column:
        columns.insert(2, fits.Column(name="ivar", format="E", array=np.full(wave.size, 4.0)))
    specobj = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="PLATE", format="J", array=[plate]),
            fits.Column(name="MJD", format="J", array=[mjd]),
            fits.Column(name="FIBERID", format="J", array=[fiber]),
            fits.Column(name="PLUG_RA", format="D", array=[150.25]),
            fits.Column(name="PLUG_DEC", format="D", array=[2.5]),
            fits.Column(name="CLASS", format="6A", array=["STAR"]),
            fits.Column(name="SUBCLASS", format="6A", array=["A0"]),
            fits.Column(name="Z", format="E", array=[1e-4]),
        ],
        name="SPECOBJ",
    )
    primary = fits.PrimaryHDU(header=fits.Header([("PLUG_RA", 150.25), ("PLUG_DEC", 2.5)]))
    fits.HDUList([primary, fits.BinTableHDU.from_columns(columns, name="COADD"), specobj]).writeto(
        path
    )


def write_ondrejov(path: Path, log_linear: bool = False) -> None:
    """A 1-D image in air wavelengths with a linear (CDELT1) or log-linear (CD1_1) WCS."""
    if log_linear:
        axis = np.log10(6250.0) + 2e-5 * np.arange(3900)
        header = fits.Header(
            [
                ("CRVAL1", axis[0]),
                ("CD1_1", 2e-5),
                ("CRPIX1", 1.0),
                ("DC-FLAG", 1),
                ("OBJECT", "gam Cas"),
            ]
        )
        wave = 10**axis
    else:
        wave = 6250.0 + 0.25 * np.arange(1800)
        header = fits.Header(
            [
                ("CRVAL1", 6250.0),
                ("CDELT1", 0.25),
                ("CRPIX1", 1.0),
                ("CTYPE1", "AWAV"),
                ("DC-FLAG", 0),
                ("OBJECT", "gam Cas"),
            ]
        )
    noise = np.random.default_rng(1).normal(0, 0.05, wave.size)
    data = (line(wave, HALPHA_AIR) + noise).astype(np.float32)
    hdu = fits.PrimaryHDU(data, header=header)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            hdu.writeto(handle)
    else:
        hdu.writeto(path)


def table_of_spectra() -> tuple[list[str], np.ndarray, np.ndarray]:
    wave = np.linspace(6500.0, 6650.0, 301)
    ids = ["row-a", "row-b", "row-c"]
    flux = np.vstack([line(wave, HALPHA_VACUUM)] * 3)
    return ids, wave, flux


def write_csv(path: Path) -> None:
    ids, wave, flux = table_of_spectra()
    table = pd.DataFrame(flux, columns=[f"{w:.2f}" for w in wave]).assign(label="other")
    table.insert(0, "id", ids)
    table.to_csv(path, index=False)


def write_hdf5(path: Path) -> None:
    ids, wave, flux = table_of_spectra()
    with h5py.File(path, "w") as h5:
        h5["id"] = np.array([f"h5-{i}" for i in ids], dtype="S")
        h5["wavelength"], h5["flux"] = wave, flux
        h5["ivar"] = np.full(flux.shape, 4.0)
        h5["metadata/SNRR"] = np.array([10.0, 20.0, 30.0])


def write_votable(path: Path) -> None:
    """Array columns: flux, ivar and each row's wavelengths."""
    ids, wave, flux = table_of_spectra()
    Table(
        {
            "id": [f"vo-{i}" for i in ids],
            "flux": flux,
            "ivar": np.full(flux.shape, 4.0),
            "wavelength": np.vstack([wave] * 3),
        }
    ).write(path, format="votable")
