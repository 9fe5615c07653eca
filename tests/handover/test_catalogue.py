"""The candidate catalogue: VOTable, FITS and CSV; cross-match; SAMP; SQL over results."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pandas as pd
import pytest
from astropy.io import votable
from astropy.table import Table

from alspec.errors import InputError
from alspec.handover.crossmatch import crossmatch
from alspec.handover.steps import catalogue as write_catalogue

from conftest import BIN

INTEREST_SETTINGS = {
    "classes_of_interest": ["single_peak", "double_peak"],
    "catalogue": {"metadata": ["snrr", "subclass"]},
    "crossmatch": [],
}


@pytest.fixture
def iteration(tmp_path):
    """An iteration's files, as the workflow leaves them, with hand-placed candidates."""
    pool = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "ra": [10.0, 10.0, 200.0, np.nan],
            "dec": [20.0, -30.0, 45.0, np.nan],
            "snrr": [12.5, 40.0, 8.0, 20.0],
            "subclass": ["B2", "B5", "A0", "F5"],
        }
    )
    pool.to_parquet(tmp_path / "catalog.parquet")
    candidates = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "label": ["single_peak", "double_peak", "single_peak", "double_peak"],
            "probability": [0.9, 1.0, 0.6, 0.7],
            "source": ["predicted", "oracle", "predicted", "predicted"],
        }
    )
    candidates.to_parquet(tmp_path / "candidates.parquet")
    # b answered before; the batch: a of interest, d not (it leaves the catalogue)
    answers = pd.DataFrame(
        {"id": ["b", "a", "d"], "label": ["double_peak", "single_peak", "other"]}
    )
    answers.iloc[:1].to_parquet(tmp_path / "training_set.parquet")
    answers.iloc[1:].to_parquet(tmp_path / "labels.parquet")
    record = {
        "catalogue": {
            "precision": {"estimate": 0.94, "interval": [0.8, 0.99]},
            "completeness": {
                "estimate": None,
                "interval": None,
                "why": "fewer than two answered draws in other 3",
            },
            "confidence": 0.95,
            "sample": {"size": 40},
        }
    }
    (tmp_path / "performance.json").write_text(json.dumps(record))
    provenance = {"git": {"commit": "0123abc"}, "config": {"mode": "classification"}}
    (tmp_path / "provenance.json").write_text(json.dumps(provenance))
    return tmp_path


def write(iteration, settings=INTEREST_SETTINGS, out=None):
    return write_catalogue(
        iteration=3,
        candidates=iteration / "candidates.parquet",
        answers=[iteration / "training_set.parquet", iteration / "labels.parquet"],
        catalog=iteration / "catalog.parquet",
        performance=iteration / "performance.json",
        provenance=iteration / "provenance.json",
        out=out or iteration / "catalogue",
        settings=settings,
    )


def test_the_votable_names_units_and_ucds_and_parses_strictly(iteration):
    info = write(iteration)
    assert info["candidates"] == 3 and info["precision"] == 0.94 and info["git_commit"] == "0123abc"
    document = votable.parse(iteration / "catalogue" / "candidates.vot", verify="exception")
    table = document.get_first_table()
    fields = {f.name: f for f in table.fields}
    assert fields["ra"].ucd == "pos.eq.ra;meta.main" and str(fields["ra"].unit) == "deg"
    assert fields["dec"].ucd == "pos.eq.dec;meta.main" and str(fields["dec"].unit) == "deg"
    assert fields["id"].ucd == "meta.id;meta.main"
    assert fields["probability"].ucd == "stat.probability"
    assert fields["snrr"].ucd == "stat.snr"
    infos = {i.name: i.value for i in table.infos}
    assert float(infos["precision"]) == 0.94 and float(infos["precision_low"]) == 0.8
    assert "completeness" not in infos and infos["completeness_note"] == (
        "not measurable yet: fewer than two answered draws in other 3"
    )
    assert infos["estimate_sample"] == "40"
    assert infos["git_commit"] == "0123abc" and infos["config_sha256"].startswith("sha256:")
    rows = table.to_table()
    assert list(rows["id"]) == ["a", "b", "c"], "answered first, then the most probable"
    assert list(rows["answer"]) == ["single_peak", "double_peak", ""]
    assert list(rows["iteration"]) == [3] * 3


def test_the_fits_and_csv_tables_read_back_equal(iteration):
    write(iteration)
    folder = iteration / "catalogue"
    fits = Table.read(folder / "candidates.fits")
    csv = pd.read_csv(folder / "candidates.csv", keep_default_na=False, na_values=[""])
    assert list(fits["id"]) == list(csv["id"]) == ["a", "b", "c"]
    np.testing.assert_allclose(fits["probability"], csv["probability"])
    np.testing.assert_allclose(fits["ra"], csv["ra"])
    assert fits["ra"].unit == "deg"
    assert fits.meta["PRECISN"] == 0.94 and fits.meta["ITERATN"] == 3
    assert fits.meta["COMP_NB"].startswith("not measurable yet")
    assert fits.meta["GITCOMMT"] == "0123abc" and len(fits.meta["CONFSHA"]) == 64


def catalogue_of(tmp_path, name, rows, suffix=".csv"):
    path = tmp_path / f"{name}{suffix}"
    table = pd.DataFrame(rows, columns=["star", "RAJ2000", "DEJ2000"])
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".parquet":
        table.to_parquet(path)
    else:
        Table.from_pandas(table).write(path, format="votable" if suffix == ".vot" else "fits")
    return {"name": name, "path": str(path), "id": "star", "ra": "RAJ2000", "dec": "DEJ2000"}


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".vot", ".fits"])
def test_crossmatch_finds_what_lies_within_the_radius(tmp_path, suffix):
    arcsec = 1 / 3600
    candidates = pd.DataFrame(
        {"id": list("abcd"), "ra": [10.0, 10.0, 200.0, np.nan], "dec": [20.0, -30.0, 45.0, np.nan]}
    )
    known = catalogue_of(
        tmp_path,
        "known",
        [
            ("inside", 10.0, 20.0 + 1.5 * arcsec),
            ("farther", 10.0, 20.0 - 1.9 * arcsec),
            ("outside", 10.0, -30.0 + 2.5 * arcsec),
            ("at", 200.0, 45.0 + 2.0 * arcsec - 1e-12),
        ],
        suffix,
    ) | {"radius_arcsec": 2.0}
    earlier = catalogue_of(tmp_path, "earlier", [("old", 10.0, -30.0 + 2.5 * arcsec)]) | {
        "radius_arcsec": 3.0
    }
    matched, counts = crossmatch(candidates, [known, earlier])
    assert matched["known_id"].tolist() == ["inside", "", "at", ""], 'the nearest; none beyond 2"'
    np.testing.assert_allclose(matched["known_separation"][:1], [1.5], rtol=1e-6)
    assert np.isnan(matched["known_separation"][1]) and np.isnan(matched["known_separation"][3])
    assert matched["earlier_id"].tolist() == ["", "old", "", ""]
    assert matched["new"].tolist() == [False, False, False, True], "no coordinates: no match"
    assert counts == {"known": 2, "earlier": 1}


def test_a_catalogue_without_the_named_columns_or_unreadable_is_one_line(tmp_path, iteration):
    spec = catalogue_of(tmp_path, "known", [("x", 1.0, 2.0)]) | {"radius_arcsec": 2.0}
    settings = INTEREST_SETTINGS | {"crossmatch": [spec | {"ra": "RA"}]}
    with pytest.raises(InputError, match=r"crossmatch known: .*known.csv: no column\(s\) \['RA'\]"):
        write(iteration, settings)
    broken = tmp_path / "broken.fits"
    broken.write_text("not a FITS file")
    settings = INTEREST_SETTINGS | {"crossmatch": [spec | {"path": str(broken)}]}
    with pytest.raises(ValueError, match=r"broken\.fits: cannot be read"):
        write(iteration, settings)
    assert not (iteration / "catalogue").exists(), "nothing written half"


def test_a_radius_that_is_not_positive_names_the_key(tmp_path):
    spec = catalogue_of(tmp_path, "known", [("x", 1.0, 2.0)]) | {"radius_arcsec": 0}
    result = subprocess.run(
        [str(BIN / "alspec"), "config", "--json", json.dumps({"crossmatch": [spec]})],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert (
        "crossmatch.0.radius_arcsec: 0 is less than or equal to the minimum of 0" in result.stderr
    )


def test_samp_sends_the_catalogue_to_a_listening_client(topcat, iteration):
    write(iteration)
    sent = subprocess.run(
        [str(BIN / "alspec"), "samp", iteration / "catalogue" / "candidates.vot", "--to", "TOPCAT"],
        capture_output=True,
        text=True,
        env=os.environ | {"SAMP_HUB": topcat.hub},
        check=False,
    )
    assert sent.returncode == 0, sent.stderr
    assert topcat.arrived.wait(10), "the table reached the client"
    assert "sent to topcat" in sent.stdout
    table = votable.parse_single_table(topcat.received["url"].removeprefix("file://")).to_table()
    assert list(table["id"]) == ["a", "b", "c"]


def test_samp_without_a_hub_says_so_in_one_line(tmp_path, iteration):
    write(iteration)
    env = os.environ | {
        "SAMP_HUB": f"std-lockurl:{(tmp_path / 'none').as_uri()}",
        "HOME": str(tmp_path),
    }
    sent = subprocess.run(
        [str(BIN / "alspec"), "samp", iteration / "catalogue" / "candidates.vot"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert sent.returncode != 0
    assert sent.stderr.strip().splitlines() == [
        "alspec samp: error: no SAMP hub is running: start TOPCAT or Aladin (either starts one),"
        " then send again"
    ]
