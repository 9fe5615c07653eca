"""The candidate catalogue: what a learning session hands over, in the formats of the VO.

Every candidate with its position, the predicted class and calibrated probability, the
oracle's answer where there is one and the catalogue metadata chosen in config, as a
VOTable (units, UCDs, the catalogue's estimated precision and completeness with their
intervals and the provenance as INFO elements), a FITS binary table (the same as header
keywords) and CSV. Config
`crossmatch` names catalogues of the user's (known objects, an earlier session's list):
each candidate gets the id and separation of its nearest match within the radius in
each, and the catalogue says how many candidates are new (alspec.handover.crossmatch).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.io.votable import from_table
from astropy.io.votable.tree import Info
from astropy.table import Table

from alspec.errors import ConfigError
from alspec.evaluation.estimates import NOT_MEASURABLE
from alspec.io import atomic_output
from alspec.layout import CATALOGUE_FILES

logger = logging.getLogger(__name__)

NAME = Path(CATALOGUE_FILES["votable"]).stem  # the VOTable's TABLE name

# name: (unit, UCD1+, description); the pool's metadata columns alspec knows follow.
COLUMNS: dict[str, tuple[str | None, str | None, str]] = {
    "id": (None, "meta.id;meta.main", "identifier of the spectrum in the pool"),
    "ra": ("deg", "pos.eq.ra;meta.main", "right ascension (ICRS)"),
    "dec": ("deg", "pos.eq.dec;meta.main", "declination (ICRS)"),
    "predicted": (None, "src.class", "class the model predicts (or the oracle confirmed)"),
    "probability": (None, "stat.probability", "calibrated probability of that class"),
    "answer": (None, "meta.code.class", "the oracle's answer; empty where not asked"),
    "iteration": (None, "meta.number", "the iteration whose candidate list this is"),
    "new": (None, "meta.code", "true: matched in none of the cross-match catalogues"),
    "snrr": (None, "stat.snr", "signal-to-noise ratio in the r band"),
    "mag1": ("mag", "phot.mag", "magnitude"),
    "z": (None, "src.redshift", "redshift"),
    "subclass": (None, "src.spType", "spectral subclass of the survey's pipeline"),
    "class": (None, "src.class", "class of the survey's pipeline"),
}
MATCH_ID = (None, "meta.id.cross", "identifier of the nearest match in catalogue {name}")
MATCH_SEPARATION = ("arcsec", "pos.angDistance", "separation from that match")


def candidate_table(
    candidates: pd.DataFrame,
    answers: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    metadata: Sequence[str],
    iteration: int,
) -> pd.DataFrame:
    """One row per candidate (the query step's `candidates`: id, label, probability),
    with the oracle's latest answer, its position and the `metadata` columns of the
    pool's `catalog`, most probable first."""
    missing = [c for c in ("ra", "dec", *metadata) if c not in catalog]
    if missing:
        raise ConfigError(f"catalogue.metadata: {missing} not in the pool's catalogue")
    answer = answers.drop_duplicates("id", keep="last").set_index("id")["label"]
    table = pd.DataFrame(
        {
            "id": candidates["id"].astype(str),
            "predicted": candidates["label"].astype(str),
            "probability": candidates["probability"].astype(float),
        }
    )
    table["answer"] = table["id"].map(answer).fillna("").astype(str)
    table["iteration"] = iteration
    positions = catalog.set_index(catalog["id"].astype(str))[["ra", "dec", *metadata]]
    table = table.join(positions, on="id")
    table = table.sort_values(["probability", "id"], ascending=[False, True], kind="stable")
    columns = ["id", "ra", "dec", "predicted", "probability", "answer", "iteration", *metadata]
    return table[columns].reset_index(drop=True)


def estimate_info(performance: Mapping[str, Any]) -> dict[str, Any]:
    """The catalogue's estimated precision (seed 002's "estimated error" is its
    complement) and completeness with their intervals, from the iteration's performance
    record; None where not measurable yet."""
    catalogue = performance["catalogue"]
    info: dict[str, Any] = {}
    for name in ("precision", "completeness"):
        estimate = catalogue[name]
        low, high = estimate["interval"] or (None, None)
        info |= {name: estimate["estimate"], f"{name}_low": low, f"{name}_high": high}
        if estimate["estimate"] is None:
            info[f"{name}_note"] = f"{NOT_MEASURABLE}: {estimate['why']}"
    precision = catalogue["precision"]["estimate"]
    return info | {
        "estimated_error": None if precision is None else 1 - precision,
        "confidence": catalogue["confidence"],
        "estimate_sample": catalogue["sample"]["size"],
    }


def describe(name: str) -> tuple[str | None, str | None, str]:
    """Unit, UCD and description of a catalogue column."""
    for suffix, spec in (("_id", MATCH_ID), ("_separation", MATCH_SEPARATION)):
        if name.endswith(suffix) and name not in COLUMNS:
            unit, ucd, text = spec
            return unit, ucd, text.format(name=name.removesuffix(suffix))
    return COLUMNS.get(name, (None, None, name))


def as_astropy(table: pd.DataFrame):
    """The catalogue as an astropy Table with units, UCDs and descriptions per column."""
    result = Table()
    for name in table.columns:
        unit, ucd, text = describe(name)
        values = table[name].to_numpy()
        if values.dtype == object or pd.api.types.is_string_dtype(table[name]):
            values = np.array([str(v) for v in table[name].fillna("")], dtype=str)
        result[name] = values
        result[name].description = text
        if unit:
            result[name].unit = u.Unit(unit)
        if ucd:
            result[name].meta["ucd"] = ucd
    return result


def write_votable(table, info: Mapping[str, Any], path: Path) -> None:
    """A VOTable 1.4, its rows in BINARY2: UCDs on the fields, the metadata as INFO
    elements."""
    document = from_table(table)
    element = document.get_first_table()
    element.name = NAME
    for field in element.fields:
        ucd = table[field.name].meta.get("ucd")
        if ucd:
            field.ucd = ucd
    for key, value in info.items():
        if value is not None:
            element.infos.append(Info(name=key, value=str(value)))
    with atomic_output(path) as tmp:
        # BINARY2, not TABLEDATA: astropy's C writer of TABLEDATA corrupts its buffer at
        # random (astropy issue 20419; it crashed a 10^7-spectrum pool's catalogue here)
        document.to_xml(str(tmp), tabledata_format="binary2")


# The metadata as FITS header keywords (8 characters) with their comments.
FITS_KEYWORDS = {
    "iteration": ("ITERATN", "the iteration whose catalogue this is"),
    "candidates": ("NCANDS", "objects in the catalogue, answered or predicted"),
    "new_candidates": ("NNEW", "candidates matched in no cross-match catalogue"),
    "precision": ("PRECISN", "estimated precision of the catalogue"),
    "precision_low": ("PREC_LO", "lower bound of its interval"),
    "precision_high": ("PREC_HI", "upper bound of its interval"),
    "precision_note": ("PREC_NB", "why the precision is not given"),
    "completeness": ("COMPLETE", "estimated completeness of the catalogue"),
    "completeness_low": ("COMP_LO", "lower bound of its interval"),
    "completeness_high": ("COMP_HI", "upper bound of its interval"),
    "completeness_note": ("COMP_NB", "why the completeness is not given"),
    "estimated_error": ("EST_ERR", "1 - precision (seed 002's estimated error)"),
    "confidence": ("CONFLEV", "confidence level of the intervals"),
    "estimate_sample": ("EST_N", "spectra drawn and asked for the estimates"),
    "git_commit": ("GITCOMMT", "workflow git commit"),
}


def write_fits(table, info: Mapping[str, Any], path: Path) -> None:
    """A FITS binary table; the metadata as header keywords (FITS_KEYWORDS; matches per
    catalogue as NMATCH<k> with the catalogue's name in the comment)."""
    hdu = fits.table_to_hdu(table)
    matches = [k for k in info if k.startswith("matched_")]
    for key, value in info.items():
        if value is None:
            continue
        if key == "config_sha256":  # 64 hex digits fill the card: no room for a comment
            hdu.header["CONFSHA"] = value.removeprefix("sha256:")
            continue
        if key.endswith("_note"):  # a sentence: too long for a comment beside it
            hdu.header[FITS_KEYWORDS[key][0]] = value
            continue
        if key in FITS_KEYWORDS:
            keyword, comment = FITS_KEYWORDS[key]
        else:
            keyword = f"NMATCH{matches.index(key) + 1}"
            comment = f"candidates matched in {key.removeprefix('matched_')}"
        hdu.header[keyword] = (value, comment)
    with atomic_output(path) as tmp:
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp)
