"""A simulated star's spectrum, as LAMOST (or the Ondřejov coudé spectrograph) sees it.

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

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from alspec.pool.preprocess import air_to_vacuum, blur
from alspec.survey.stars import C_KMS, HALPHA

HC_OVER_K = 1.438777e8  # Å K
FORBIDDEN_LINES = ((6549.86, 1 / 3), (6585.27, 1.0), (6718.29, 0.5), (6732.67, 0.5))  # vacuum Å

# Vacuum rest wavelengths (Å).
BALMER = (HALPHA, 4862.68, 4341.69, 4102.89, 3971.20)
HBETA = BALMER[1]
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


ONDREJOV_RESOLVING_POWER = 13_000


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
