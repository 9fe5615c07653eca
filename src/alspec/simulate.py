"""A synthetic LAMOST-like survey in which a few percent of the stars show Hα emission.

Each spectrum is rendered on an oversampled log-λ grid in the star's rest frame
physics: a Planck continuum, Balmer absorption whose depth peaks near 9,500 K
(A stars), metal lines and TiO bands that grow in cooler stars, and, for Be stars,
single- or double-peaked Hα emission (Hβ weaker, by the Balmer decrement). It is
shifted by its radial velocity, absorbed by the telluric A and B bands, blurred to
the resolving power of LAMOST (R ≈ 1,800), binned onto the LAMOST pixels and
multiplied by a smooth instrument response. Observation adds noise for the
spectrum's S/N, masked bad pixels and a few unmasked cosmic-ray spikes.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from astropy.io import fits
from scipy.special import expit
from tqdm import tqdm

from alspec.config import CONFUSERS
from alspec.formats import Spectrum, write_lamost
from alspec.io import atomic_output, write_table
from alspec.preprocess import air_to_vacuum, blur

C_KMS = 299_792.458
HC_OVER_K = 1.438777e8  # Å K
OTHER = "other"
EMISSION_CLASSES = ("single_peak", "double_peak")
# Rare line shapes for anomaly mode, none unless their rates say so: Hα emission with a
# blue-shifted wind absorption (P Cygni), and narrow nebular Hα with [N II] and [S II].
ANOMALY_CLASSES = ("p_cygni", "forbidden_lines")
# CONFUSERS, none unless their rates say so: objects with Hα emission that are not the
# classes of interest and that the oracle answers "other": star-forming galaxies at low
# redshift (narrow Hα with [N II], [S II]) and active M dwarfs (narrow Hα on TiO bands).
FORBIDDEN_LINES = ((6549.86, 1 / 3), (6585.27, 1.0), (6718.29, 0.5), (6732.67, 0.5))  # vacuum Å

# Vacuum rest wavelengths (Å).
BALMER = (6564.61, 4862.68, 4341.69, 4102.89, 3971.20)
HALPHA, HBETA = BALMER[0], BALMER[1]
STRONG_METAL_LINES = (  # (wavelength, depth at full strength)
    (3934.78, 0.8),
    (3969.59, 0.7),  # Ca II K, H
    (4227.92, 0.5),
    (4384.8, 0.3),
    (5168.76, 0.4),
    (5174.13, 0.4),
    (5185.05, 0.45),  # Ca I, Fe I, Mg b
    (5271.2, 0.3),
    (5330.0, 0.2),
    (5894.9, 0.5),
    (5897.56, 0.5),  # Fe I, Na D
    (6498.9, 0.15),
    (8500.36, 0.4),
    (8544.44, 0.5),
    (8664.52, 0.45),  # Ba II, Ca II triplet
)
TIO_BANDHEADS = (5167.0, 5448.0, 6159.0, 6651.0, 7055.0, 7589.0, 8433.0)
TELLURIC_BANDS = ((6867.0, 6884.0, 0.15), (7594.0, 7621.0, 0.35))  # B and A bands: from, to, depth

# The LAMOST low-resolution pixel grid: log10 λ = COEFF0 + COEFF1 * pixel.
LAMOST_COEFF0, LAMOST_COEFF1, LAMOST_PIXELS = 3.5682, 1e-4, 3909
ORMASK_BADPIXEL = 1 << 1


@dataclass(frozen=True)
class Instrument:
    resolving_power: float = 1800.0
    oversample: int = 4

    def wavelength(self) -> np.ndarray:
        return 10.0 ** (LAMOST_COEFF0 + LAMOST_COEFF1 * np.arange(LAMOST_PIXELS))

    def fine_log_wavelength(self) -> np.ndarray:
        """Sub-pixel centres: `oversample` per LAMOST pixel, binned back by averaging."""
        offsets = (np.arange(self.oversample) - (self.oversample - 1) / 2) / self.oversample
        pixels = np.arange(LAMOST_PIXELS)[:, None] + offsets[None, :]
        return (LAMOST_COEFF0 + LAMOST_COEFF1 * pixels).ravel()

    def lsf_fwhm_log10(self) -> float:
        return float(np.log10(1 + 1 / self.resolving_power))


@dataclass(frozen=True)
class SurveyModel:
    """What a simulated survey holds: the fraction of each rare kind of object (`rates`:
    emission classes, anomaly line shapes, confusers), the S/N range (log-uniform, or
    log-normal around `snr_median` clipped to the range) and the range of the emission
    equivalent widths in Å (log-uniform)."""

    rates: Mapping[str, float]
    snr: tuple[float, float] = (8.0, 80.0)
    snr_median: float | None = None
    emission_ew: tuple[float, float] = (2.0, 40.0)

    def draw_snr(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Log-uniform over `snr`; or log-normal with median `snr_median` and σ a quarter
        of the range's log width (the range is ±2σ), clipped to the range."""
        low, high = np.log(self.snr)
        if self.snr_median is None:
            return np.exp(rng.uniform(low, high, n))
        spread = (high - low) / 4
        return np.exp(np.clip(rng.normal(np.log(self.snr_median), spread, n), low, high))


def draw_parameters(n: int, survey: SurveyModel, rng: np.random.Generator) -> pd.DataFrame:
    """The physical parameters of `n` stars; the label is the truth the oracle knows."""
    rare = (*EMISSION_CLASSES, *ANOMALY_CLASSES, *CONFUSERS)
    unknown = set(survey.rates) - set(rare)
    if unknown:
        raise ValueError(f"simulate.rates: {sorted(unknown)} unknown; known: {', '.join(rare)}")
    p_rare = [survey.rates.get(c, 0.0) for c in rare]
    if sum(p_rare) > 1:
        raise ValueError(f"simulate.rates: the rates sum to {sum(p_rare)} > 1")
    kind = rng.choice([OTHER, *rare], size=n, p=[1 - sum(p_rare), *p_rare])
    emission = ~np.isin(kind, (OTHER, *CONFUSERS))
    # Most survey stars are FGK; 15 % are hot; Be stars are B and early A stars.
    cool = np.exp(rng.normal(np.log(5600), 0.18, n))
    hot = np.exp(rng.uniform(np.log(7000), np.log(30000), n))
    be = np.exp(rng.uniform(np.log(10000), np.log(28000), n))
    teff = np.clip(np.where(emission, be, np.where(rng.random(n) < 0.15, hot, cool)), 3100, 35000)
    separation = rng.uniform(200, 600, n)
    double = kind == "double_peak"
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-10)), np.sin(np.radians(60)), n)))
    stars = pd.DataFrame(
        {
            "id": [str(obsid) for obsid in 100_000_000 + rng.choice(900_000_000, n, replace=False)],
            "label": np.where(np.isin(kind, CONFUSERS), OTHER, kind),
            "teff": teff.round(0),
            "rv_kms": rng.normal(0, 40, n).round(2),
            "snr": survey.draw_snr(n, rng).round(2),
            "ra": ra.round(6),
            "dec": dec.round(6),
            # Emission strength (Å, > 0) and shape; zero for stars without emission.
            "emission_ew": np.where(
                emission, np.exp(rng.uniform(*np.log(survey.emission_ew), n)), 0.0
            ),
            "emission_sigma_kms": np.where(
                double, rng.uniform(0.2, 0.35, n) * separation, rng.uniform(60, 200, n)
            )
            * emission,
            "peak_separation_kms": np.where(double, separation, 0.0),
            "violet_to_red": np.where(double, rng.uniform(0.7, 1.4, n), 1.0),
        }
    )
    stars = with_rare_line_shapes(stars, rng).assign(kind=stars["label"])
    if np.isin(kind, CONFUSERS).any():
        stars = with_confusers(stars, kind, rng)
    return stars


def with_confusers(stars: pd.DataFrame, kind: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Objects with Hα emission that the oracle calls "other" (`kind` says what they are):
    galaxies at redshift 0.002-0.03 (an old population's continuum, narrow Hα 1-30 Å with
    [N II] and [S II]) and M dwarfs of 3,100-3,700 K with narrow Hα of 0.5-8 Å. Drawn
    last, so a survey without them is the same as before for the same seed."""
    n = len(stars)
    galaxy, dwarf = kind == "emission_galaxy", kind == "m_dwarf"
    confuser = galaxy | dwarf
    ew = np.where(galaxy, np.exp(rng.uniform(np.log(1), np.log(30), n)), rng.uniform(0.5, 8.0, n))
    teff = np.where(galaxy, rng.uniform(4500, 6000, n), rng.uniform(3100, 3700, n))
    redshift_kms = C_KMS * rng.uniform(0.002, 0.03, n)
    sigma_kms = np.where(galaxy, rng.uniform(50, 150, n), rng.uniform(15, 40, n))
    return stars.assign(
        kind=np.where(confuser, kind, stars["kind"]),
        teff=np.where(confuser, teff.round(0), stars["teff"]),
        rv_kms=np.where(galaxy, redshift_kms.round(2), stars["rv_kms"]),
        emission_ew=np.where(confuser, ew, stars["emission_ew"]),
        emission_sigma_kms=np.where(confuser, sigma_kms, stars["emission_sigma_kms"]),
        forbidden_ratio=np.where(galaxy, rng.uniform(0.3, 1.0, n), stars["forbidden_ratio"]),
    )


def with_rare_line_shapes(stars: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The anomaly classes' own parameters, drawn after everything else so that a survey
    without them is the same as before for the same seed. A nebula's lines are narrow;
    a P Cygni wind absorbs half to all of the emission, never below 20 % of the continuum."""
    n = len(stars)
    nebular = (stars["label"] == "forbidden_lines").to_numpy()
    wind = (stars["label"] == "p_cygni").to_numpy()
    ew = np.where(nebular, rng.uniform(2, 15, n), stars["emission_ew"])
    sigma_kms = np.where(nebular, rng.uniform(20, 40, n), stars["emission_sigma_kms"])
    outflow = np.where(wind, rng.uniform(300, 900, n), 0.0)
    trough_sigma = HALPHA * (1 - outflow / C_KMS) * sigma_kms / C_KMS  # Å
    deepest = 0.8 * trough_sigma * np.sqrt(2 * np.pi)
    trough = np.where(wind, np.minimum(rng.uniform(0.5, 1.0, n) * ew, deepest), 0.0)
    return stars.assign(
        emission_ew=ew,
        emission_sigma_kms=sigma_kms,
        # P Cygni: the trough's EW (Å) and the wind's speed; nebular: [N II] 6585 / Hα
        outflow_ew=trough,
        outflow_kms=outflow,
        forbidden_ratio=np.where(nebular, rng.uniform(0.3, 1.5, n), 0.0),
    )


def _gaussian(wavelength: np.ndarray, centre: float, sigma_kms: float) -> np.ndarray:
    """A unit-area Gaussian in Å of velocity width `sigma_kms`."""
    sigma = centre * sigma_kms / C_KMS
    return np.exp(-0.5 * ((wavelength - centre) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def balmer_depth(teff: float) -> float:
    """Central depth of the Balmer lines: strongest near 9,500 K, weak in hot and cool stars."""
    return 0.75 * np.exp(-0.5 * (np.log(teff / 9500) / 0.55) ** 2)


def metal_strength(teff: float) -> float:
    return float(np.clip((7000 - teff) / 3500, 0, 1))


def _near(wavelength: np.ndarray, centre: float, half_width: float) -> slice:
    """The pixels of a sorted grid within `half_width` of `centre`: lines are local."""
    lo, hi = np.searchsorted(wavelength, (centre - half_width, centre + half_width))
    return slice(lo, hi)


def rest_frame_spectrum(star: pd.Series, log_wavelength: np.ndarray) -> np.ndarray:
    """Planck continuum times the lines, in the rest frame."""
    wavelength = 10.0**log_wavelength
    continuum = 1.0 / (wavelength**5 * np.expm1(HC_OVER_K / (wavelength * star.teff)))
    continuum /= np.interp(6000.0, wavelength, continuum)
    return continuum * rectified_spectrum(star, log_wavelength)


def rectified_spectrum(star: pd.Series, log_wavelength: np.ndarray) -> np.ndarray:
    """Photospheric lines plus circumstellar emission on a continuum of 1, rest frame."""
    wavelength = 10.0**log_wavelength
    teff = star.teff
    depth, strength = balmer_depth(teff), metal_strength(teff)
    width = 1.5 + 6.0 * np.exp(-0.5 * (np.log(teff / 9500) / 0.4) ** 2)  # Lorentzian HWHM at Hα, Å
    absorption = np.ones_like(wavelength)
    for line in BALMER:
        gamma = width * line / HALPHA
        near = _near(wavelength, line, 60 * gamma)
        absorption[near] *= 1 - depth / (1 + ((wavelength[near] - line) / gamma) ** 2)
    for line, line_depth in STRONG_METAL_LINES:
        near = _near(wavelength, line, 8.0)
        absorption[near] *= 1 - strength * line_depth * np.exp(
            -0.5 * ((wavelength[near] - line) / 1.2) ** 2
        )
    titanium = float(np.clip((4000 - teff) / 800, 0, 1))
    for head in TIO_BANDHEADS if titanium > 0 else ():
        redward = _near(wavelength, head + 500, 500)
        absorption[redward] *= 1 - 0.5 * titanium * np.exp(-(wavelength[redward] - head) / 150)
    return absorption + emission_profile(star, wavelength)


def emission_profile(star: pd.Series, wavelength: np.ndarray) -> np.ndarray:
    """Hα (and weaker Hβ) emission in units of the continuum; its integral is the EW."""
    profile = np.zeros_like(wavelength)
    if star.emission_ew <= 0:
        return profile
    half = star.peak_separation_kms / 2
    violet = star.violet_to_red / (1 + star.violet_to_red)
    # A single peak is the limit of zero separation: both halves at the line centre.
    peaks = ((-half, violet), (half, 1 - violet))
    for line, share in ((HALPHA, 1.0), (HBETA, 0.25)):
        for shift, weight in peaks:
            centre = line * (1 + shift / C_KMS)
            profile += share * weight * _gaussian(wavelength, centre, star.emission_sigma_kms)
    for line, ratio in FORBIDDEN_LINES if star.get("forbidden_ratio", 0) > 0 else ():
        profile += (
            star.forbidden_ratio * ratio * _gaussian(wavelength, line, star.emission_sigma_kms)
        )
    profile *= star.emission_ew
    if star.get("outflow_ew", 0) > 0:
        centre = HALPHA * (1 - star.outflow_kms / C_KMS)
        profile -= star.outflow_ew * _gaussian(wavelength, centre, star.emission_sigma_kms)
    return profile


def instrument_response(wavelength: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Throughput of a two-arm spectrograph with a dichroic, times a calibration tilt."""
    blue_cut = 1 / (1 + np.exp(-(wavelength - 3950) / 120))
    red_cut = 1 / (1 + np.exp((wavelength - 8900) / 350))
    dichroic = 1 - 0.45 * np.exp(-0.5 * ((wavelength - 5850) / 70) ** 2)
    x = (wavelength - 6000) / 3000
    tilt = 1 + rng.normal(0, 0.05) * x + rng.normal(0, 0.03) * x**2
    return blue_cut * red_cut * dichroic * tilt


def telluric(wavelength: np.ndarray) -> np.ndarray:
    """Transmission of the O2 B and A bands: a flat-bottomed dip with 2 Å edges."""
    transmission = np.ones_like(wavelength)
    for start, stop, depth in TELLURIC_BANDS:
        near = _near(wavelength, (start + stop) / 2, (stop - start) / 2 + 30)
        edges = expit((wavelength[near] - start) / 2) * expit((stop - wavelength[near]) / 2)
        transmission[near] *= 1 - depth * edges
    return transmission


def render(star: pd.Series, instrument: Instrument, rng: np.random.Generator) -> np.ndarray:
    """The noiseless observed spectrum on the LAMOST pixels (arbitrary flux units)."""
    fine_observed = instrument.fine_log_wavelength()
    doppler = np.log10(1 + star.rv_kms / C_KMS)
    fine = rest_frame_spectrum(star, fine_observed - doppler) * telluric(10.0**fine_observed)
    fine = blur(fine, instrument.lsf_fwhm_log10(), LAMOST_COEFF1 / instrument.oversample)
    binned = fine.reshape(LAMOST_PIXELS, instrument.oversample).mean(axis=1)
    return binned * instrument_response(instrument.wavelength(), rng)


ONDREJOV = SurveyModel(rates={"single_peak": 0.35, "double_peak": 0.25}, snr=(50.0, 300.0))
ONDREJOV_RESOLVING_POWER = 13_000
ABSORPTION = "absorption"


def ondrejov_wavelength() -> np.ndarray:
    """The coudé spectrograph's linear pixels: 6,250-6,700 Å in air, 0.25 Å apart."""
    return 6250.0 + 0.25 * np.arange(1800)


def render_ondrejov(star: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """A rectified Ondřejov spectrum with noise: the lines at R 13,000, sampled at air
    wavelengths, as the archive stores them (seed 002 section 3)."""
    air = ondrejov_wavelength()
    step = 2e-6  # in ln λ: about a tenth of a pixel
    fine = np.exp(np.arange(np.log(air[0] - 10), np.log(air[-1] + 10), step))
    doppler = np.log10(1 + star.rv_kms / C_KMS)
    lines = rectified_spectrum(star, np.log10(fine) - doppler)
    blurred = blur(lines, 1 / ONDREJOV_RESOLVING_POWER, step)
    observed = np.interp(air_to_vacuum(air), fine, blurred)
    return observed + rng.normal(0, 1 / star.snr, air.size)


def observe(
    true_flux: np.ndarray, wavelength: np.ndarray, snr: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Noise for `snr` in the r band, masked bad pixels and unmasked cosmic rays.

    Returns flux, ivar, andmask and ormask.
    """
    r_band = (wavelength > 5600) & (wavelength < 6900)
    reference = np.median(true_flux[r_band])
    sigma = np.sqrt(np.clip(true_flux, 0, None) * reference + (0.05 * reference) ** 2) / snr
    flux = true_flux + rng.normal(0, 1, true_flux.size) * sigma
    ivar = 1 / sigma**2
    ormask = np.zeros(true_flux.size, dtype=np.int32)
    for _ in range(rng.poisson(0.8)):
        start = rng.integers(0, true_flux.size)
        ormask[start : start + rng.integers(1, 30)] |= ORMASK_BADPIXEL
    andmask = np.where(rng.random() < 0.5, ormask, 0)  # bad in every exposure, or in one
    ivar[ormask != 0] = 0
    for _ in range(rng.poisson(1.5)):
        pixel = rng.integers(0, true_flux.size - 1)
        flux[pixel : pixel + rng.integers(1, 3)] += rng.uniform(5, 40) * sigma[pixel]
    return flux, ivar, andmask, ormask


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
        atomic_output(out_dir / "spectra") as directory,
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
    write_table(truth, out_dir / "truth.parquet")
    return truth


def write_survey(
    *, out: Path, settings: Mapping[str, Any], workers: int = 1, external: bool = False
) -> pd.DataFrame:
    """The simulate step: the survey of config `simulate` (LAMOST files, or seed 004's
    curves) under out/spectra with its truth; with `external`, as many spectra of an
    Ondřejov labelled set instead (seed 002; initial.source external). Returns the truth."""
    chosen = settings["simulate"]
    n, seed = chosen["n_spectra"], chosen["seed"]
    if external:
        return simulate_survey(out, n, ONDREJOV, seed, workers, "ondrejov")
    if chosen["instrument"] == "curves":
        from alspec.curves import write_curves

        return write_curves(Path(out), n, seed)
    survey = SurveyModel(
        rates=chosen["rates"],
        snr=tuple(chosen["snr"]),
        snr_median=chosen["snr_median"],
        emission_ew=tuple(chosen["emission_ew"]),
    )
    return simulate_survey(out, n, survey, seed, workers, "lamost")
