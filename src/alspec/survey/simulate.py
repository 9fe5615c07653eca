"""A simulated survey written as files: LAMOST DR1-7 FITS files (or an Ondřejov labelled
set's 1-D FITS images) and the truth table, one seed giving the same files whatever the
number of processes writing them."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits
from tqdm import tqdm

from alspec.io import atomic_output, write_table
from alspec.layout import SPECTRA, TRUTH
from alspec.pool.formats import Spectrum, write_lamost
from alspec.survey.spectra import (
    LAMOST_COEFF0,
    LAMOST_COEFF1,
    Instrument,
    observe,
    ondrejov_wavelength,
    render,
    render_ondrejov,
)
from alspec.survey.stars import ABSORPTION, C_KMS, OTHER, SurveyModel, draw_parameters


def spectral_type(teff: float) -> str:
    """MK type of a main-sequence star of this temperature, as LAMOST's SUBCLASS."""
    bounds = (
        ("O", 30000, 50000),
        ("B", 10000, 30000),
        ("A", 7500, 10000),
        ("F", 6000, 7500),
        ("G", 5200, 6000),
        ("K", 3700, 5200),
        ("M", 2400, 3700),
    )
    for letter, low, high in bounds:
        if teff >= low:
            return f"{letter}{min(9, int(10 * (high - teff) / (high - low)))}"
    return "M9"


def designation(ra: float, dec: float) -> str:
    """LAMOST's DESIG, e.g. J002433.40+412133.3."""
    hours = ra / 15
    sign = "+" if dec >= 0 else "-"
    dec = abs(dec)
    return (
        f"J{int(hours):02d}{int(hours * 60 % 60):02d}{hours * 3600 % 60:05.2f}"
        f"{sign}{int(dec):02d}{int(dec * 60 % 60):02d}{dec * 3600 % 60:04.1f}"
    )


def header(star: pd.Series, measured_snr: float) -> dict[str, object]:
    return {
        "TELESCOP": "LAMOST (alspec simulation)",
        "OBSID": int(star.id),
        "DESIG": designation(star.ra, star.dec),
        "RA": star.ra,
        "DEC": star.dec,
        "CLASS": "STAR",
        "SUBCLASS": spectral_type(star.teff),
        "Z": round(star.rv_kms / C_KMS, 8),
        "SNRR": round(measured_snr, 2),
        "MAGTYPE": "r",
        "MAG1": round(17.0 - 2.5 * np.log10(star.snr / 20), 2),
        "COEFF0": LAMOST_COEFF0,
        "COEFF1": LAMOST_COEFF1,
        "VACUUM": True,
    }


def write_ondrejov_star(star: pd.Series, seed: np.random.SeedSequence, directory: Path) -> str:
    """One Ondřejov spectrum: a 1-D FITS image with a linear WCS in air wavelengths."""
    air = ondrejov_wavelength()
    header = fits.Header(
        [
            ("OBJECT", star.id),
            ("CRVAL1", air[0]),
            ("CDELT1", air[1] - air[0]),
            ("CRPIX1", 1.0),
            ("CTYPE1", "AWAV"),
            ("DC-FLAG", 0),
            ("BUNIT", "relative flux (rectified)"),
        ]
    )
    flux = render_ondrejov(star, np.random.default_rng(seed)).astype(np.float32)
    name = f"{star.id}.fit"
    fits.PrimaryHDU(flux, header=header).writeto(directory / name)
    return name


def write_lamost_star(star: pd.Series, seed: np.random.SeedSequence, directory: Path) -> str:
    """Render, observe and write one star; its own seed makes it independent of the others."""
    rng = np.random.default_rng(seed)
    instrument = Instrument()
    wavelength = instrument.wavelength()
    flux, ivar, andmask, ormask = observe(render(star, instrument, rng), wavelength, star.snr, rng)
    r_band = (wavelength > 5600) & (wavelength < 6900) & (ivar > 0)
    measured_snr = float(np.median(flux[r_band] * np.sqrt(ivar[r_band])))
    name = f"spec-{star.id}.fits"
    spectrum = Spectrum(star.id, wavelength, flux, ivar, header(star, measured_snr))
    write_lamost(directory / name, spectrum, andmask, ormask)
    return name


WRITERS = {"lamost": write_lamost_star, "ondrejov": write_ondrejov_star}


def _write_stars(stars: pd.DataFrame, seeds: list, directory: Path, instrument: str) -> list[str]:
    rows = (star for _, star in stars.iterrows())
    write = WRITERS[instrument]
    return [write(star, seed, directory) for star, seed in zip(rows, seeds, strict=True)]


def simulate_survey(
    out_dir: str | Path,
    n_spectra: int,
    survey: SurveyModel,
    seed: int,
    workers: int = 1,
    instrument: str = "lamost",
) -> pd.DataFrame:
    """Write `n_spectra` spectra under out_dir/spectra and their truth to out_dir/truth.parquet.

    `instrument` "lamost": the survey, LAMOST low-resolution FITS files. "ondrejov": a
    labelled set from another instrument (seed 002 section 3): rectified R 13,000 coudé
    spectra of 6,250-6,700 Å in air, labelled single_peak, double_peak or absorption.
    The output depends on `seed` only, not on the number of `workers` writing it.
    """
    out_dir = Path(out_dir)
    stars = draw_parameters(n_spectra, survey, np.random.default_rng(seed))
    if instrument == "ondrejov":
        stars["id"] = [f"ond-{i:06d}" for i in range(n_spectra)]
        stars["label"] = stars["label"].replace(OTHER, ABSORPTION)
    seeds = np.random.SeedSequence(seed).spawn(n_spectra)
    chunks = [slice(start, start + 100) for start in range(0, n_spectra, 100)]
    with (
        atomic_output(out_dir / SPECTRA) as directory,
        ProcessPoolExecutor(workers) as pool,
        tqdm(total=n_spectra, desc="simulate", unit="spectra") as progress,
    ):
        directory.mkdir()
        jobs = [
            pool.submit(_write_stars, stars[c], seeds[c], directory, instrument) for c in chunks
        ]
        for job in jobs:
            job.add_done_callback(lambda done: progress.update(len(done.result())))
        names = [name for job in jobs for name in job.result()]
    truth = stars.assign(file=names)
    write_table(truth, out_dir / TRUTH)
    return truth
