"""The stars of a simulated LAMOST-like survey: what kind each is and its physical
parameters, drawn from one seed. A few percent show Hα emission (single- or double-peaked,
the classes of interest); rare line shapes for anomaly mode and objects that confuse a
classifier (emission-line galaxies, active M dwarfs) appear only when their rates say so.
alspec.survey.spectra renders each star's spectrum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alspec.errors import ConfigError
from alspec.vocabulary import CONFUSERS

C_KMS = 299_792.458
OTHER = "other"
EMISSION_CLASSES = ("single_peak", "double_peak")
# Rare line shapes for anomaly mode, none unless their rates say so: Hα emission with a
# blue-shifted wind absorption (P Cygni), and narrow nebular Hα with [N II] and [S II].
ANOMALY_CLASSES = ("p_cygni", "forbidden_lines")
# CONFUSERS, none unless their rates say so: objects with Hα emission that are not the
# classes of interest and that the oracle answers "other": star-forming galaxies at low
# redshift (narrow Hα with [N II], [S II]) and active M dwarfs (narrow Hα on TiO bands).
HALPHA = 6564.61  # vacuum Å


@dataclass(frozen=True)
class SurveyModel:
    """What a simulated survey holds: the fraction of each rare kind of object (`rates`:
    emission classes, anomaly line shapes, confusers), the S/N range (log-uniform, or
    log-normal around `snr_median` clipped to the range) and the range of the emission
    equivalent widths in Å (log-uniform). A survey's defaults are the schema's (config
    `simulate`): `from_config` takes them from a resolved config."""

    rates: Mapping[str, float]
    snr: tuple[float, float]
    snr_median: float | None
    emission_ew: tuple[float, float]

    @classmethod
    def from_config(cls, simulate: Mapping[str, Any]) -> SurveyModel:
        """The survey of config section `simulate`."""
        return cls(
            rates=simulate["rates"],
            snr=tuple(simulate["snr"]),
            snr_median=simulate["snr_median"],
            emission_ew=tuple(simulate["emission_ew"]),
        )

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
        raise ConfigError(f"simulate.rates: {sorted(unknown)} unknown; known: {', '.join(rare)}")
    p_rare = [survey.rates.get(c, 0.0) for c in rare]
    if sum(p_rare) > 1:
        raise ConfigError(f"simulate.rates: the rates sum to {sum(p_rare)} > 1")
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


# An Ondřejov labelled set (seed 002 section 3): Be stars and absorption-line stars.
ONDREJOV = SurveyModel(
    rates={"single_peak": 0.35, "double_peak": 0.25},
    snr=(50.0, 300.0),
    snr_median=None,
    emission_ew=(2.0, 40.0),
)
ABSORPTION = "absorption"
