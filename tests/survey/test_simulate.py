"""The synthetic survey: real LAMOST FITS layout, class rates, and the physics of its lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from alspec.pool.formats import read_spectra
from alspec.survey.simulate import designation, simulate_survey, spectral_type
from alspec.survey.spectra import (
    LAMOST_COEFF0,
    LAMOST_COEFF1,
    LAMOST_PIXELS,
    Instrument,
    balmer_depth,
    emission_profile,
    render,
)
from alspec.survey.stars import HALPHA, ONDREJOV, draw_parameters

from conftest import survey_model


def test_files_have_the_lamost_layout(survey):
    truth = pd.read_parquet(survey / "truth.parquet")
    row = truth.iloc[0]
    with fits.open(survey / "spectra" / row.file) as hdus:
        image, header = hdus[0].data, hdus[0].header
    assert image.dtype == np.dtype(">f4") and image.shape == (5, LAMOST_PIXELS)
    for key in (
        "OBSID",
        "DESIG",
        "RA",
        "DEC",
        "CLASS",
        "SUBCLASS",
        "Z",
        "SNRR",
        "COEFF0",
        "COEFF1",
    ):
        assert key in header
    assert str(header["OBSID"]) == row.id
    expected = 10 ** (header["COEFF0"] + header["COEFF1"] * np.arange(LAMOST_PIXELS))
    np.testing.assert_allclose(image[2], expected, rtol=1e-6)
    ivar, ormask = image[1], image[4]
    assert np.all(ivar[ormask != 0] == 0), "masked pixels carry no weight"
    assert header["SNRR"] == pytest.approx(row.snr, rel=0.35)


def test_truth_matches_the_files(survey):
    truth = pd.read_parquet(survey / "truth.parquet")
    assert set(truth.columns) >= {"id", "label"}
    assert truth["id"].is_unique
    assert sorted(p.name for p in (survey / "spectra").iterdir()) == sorted(truth["file"])


def test_the_survey_depends_on_the_seed_not_on_the_workers(tmp_path):
    rates = {"single_peak": 0.2, "double_peak": 0.2}
    survey = survey_model(rates=rates, snr=(10, 50))
    one = simulate_survey(tmp_path / "one", 120, survey, seed=5, workers=1)
    two = simulate_survey(tmp_path / "two", 120, survey, seed=5, workers=2)
    pd.testing.assert_frame_equal(one, two)
    for name in one["file"]:
        assert fits.getdata(tmp_path / "one/spectra" / name).tobytes() == (
            fits.getdata(tmp_path / "two/spectra" / name).tobytes()
        )


def test_class_rates_follow_the_configuration(rng):
    stars = draw_parameters(
        50_000, survey_model(rates={"single_peak": 0.012, "double_peak": 0.008}), rng
    )
    rates = stars["label"].value_counts(normalize=True)
    assert rates["single_peak"] == pytest.approx(0.012, abs=0.002)
    assert rates["double_peak"] == pytest.approx(0.008, abs=0.002)
    emitters = stars[stars["label"] != "other"]
    assert emitters["teff"].min() >= 10_000, "Be stars are hot"
    assert (stars["snr"].between(8, 80)).all()


def test_balmer_absorption_is_strongest_in_a_stars():
    assert balmer_depth(9500) > balmer_depth(5000) > balmer_depth(3500)
    assert balmer_depth(9500) > balmer_depth(25000)


@pytest.mark.parametrize("separation", [0.0, 400.0])
def test_emission_profile_integrates_to_its_equivalent_width(separation):
    star = pd.Series(
        {
            "emission_ew": 12.0,
            "emission_sigma_kms": 120.0,
            "peak_separation_kms": separation,
            "violet_to_red": 1.0,
        }
    )
    wavelength = np.linspace(HALPHA - 60, HALPHA + 60, 24001)
    profile = emission_profile(star, wavelength)
    assert np.trapezoid(profile, wavelength) == pytest.approx(12.0, rel=1e-3)
    peaks = np.flatnonzero((profile[1:-1] > profile[:-2]) & (profile[1:-1] > profile[2:])) + 1
    if separation:
        assert len(peaks) == 2
        measured = (wavelength[peaks[1]] - wavelength[peaks[0]]) / HALPHA * 299_792.458
        assert measured == pytest.approx(separation, rel=0.1)
    else:
        assert len(peaks) == 1 and wavelength[peaks[0]] == pytest.approx(HALPHA, abs=0.01)


def test_rare_line_shapes_for_anomaly_mode(rng):
    stars = draw_parameters(
        20_000, survey_model(rates={"p_cygni": 0.01, "forbidden_lines": 0.01}), rng
    ).set_index("label")
    wavelength = np.linspace(HALPHA - 60, 6740, 40001)
    wind = stars.loc["p_cygni"].iloc[0]
    profile = emission_profile(wind, wavelength)
    trough = wavelength[np.argmin(profile)]
    assert trough == pytest.approx(HALPHA * (1 - wind.outflow_kms / 299_792.458), abs=0.5)
    assert profile.min() >= -0.8 - 1e-9, "the trough never goes below zero flux"
    assert profile.max() > 0 and wind.outflow_ew <= wind.emission_ew
    nebula = stars.loc["forbidden_lines"].iloc[0]
    profile = emission_profile(nebula, wavelength)
    for line, ratio in ((6585.27, 1.0), (6718.29, 0.5)):
        at = np.argmin(np.abs(wavelength - line))
        halpha = profile[np.argmin(np.abs(wavelength - HALPHA))]
        flux_ratio = profile[at] * line / (halpha * HALPHA)  # a peak's width grows with λ
        assert flux_ratio == pytest.approx(nebula.forbidden_ratio * ratio, rel=0.01)
    assert (stars.loc["other", "outflow_ew"] == 0).all()


def test_radial_velocity_shifts_the_lines(rng):
    instrument = Instrument()
    wavelength = instrument.wavelength()
    star = pd.Series(
        {
            "teff": 20000.0,
            "rv_kms": 300.0,
            "emission_ew": 30.0,
            "emission_sigma_kms": 80.0,
            "peak_separation_kms": 0.0,
            "violet_to_red": 1.0,
        }
    )
    spectrum = render(star, instrument, rng)
    near = (wavelength > HALPHA - 30) & (wavelength < HALPHA + 30)
    peak = wavelength[near][np.argmax(spectrum[near])]
    assert peak == pytest.approx(HALPHA * (1 + 300 / 299_792.458), abs=1.6)  # one pixel


def test_lamost_grid_constants():
    wavelength = Instrument().wavelength()
    assert wavelength[0] == pytest.approx(10**LAMOST_COEFF0)
    assert np.allclose(np.diff(np.log10(wavelength)), LAMOST_COEFF1)
    assert 3690 < wavelength[0] < 3710 and 9090 < wavelength[-1] < 9110


def test_header_strings():
    assert designation(6.139166, 41.359250) == "J002433.40+412133.3"
    assert spectral_type(9800) == "A0" and spectral_type(5780)[0] == "G"


def test_an_ondrejov_set_is_written_as_the_archive_stores_it(tmp_path):
    truth = simulate_survey(tmp_path, 30, ONDREJOV, seed=2, instrument="ondrejov")
    assert set(truth["label"]) <= {"single_peak", "double_peak", "absorption"}
    assert (truth["label"] == "absorption").any() and (truth["label"] != "absorption").any()
    row = truth.iloc[0]
    header = fits.getheader(tmp_path / "spectra" / row.file)
    assert (header["NAXIS"], header["CTYPE1"], header["CDELT1"]) == (1, "AWAV", 0.25)
    (spectrum,) = read_spectra(tmp_path / "spectra" / row.file)
    assert spectrum.id == row.id and spectrum.air
    assert spectrum.wavelength[0] == 6250.0 and spectrum.wavelength[-1] == pytest.approx(6699.75)
    assert 1 / np.sqrt(spectrum.ivar[0]) == pytest.approx(1 / 150, rel=0.2), "DER_SNR"
