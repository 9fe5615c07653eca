"""The survey stage's step: `simulate` writes a synthetic survey with its truth table
(workflow/rules/survey.smk)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from alspec.survey.simulate import simulate_survey
from alspec.survey.stars import ONDREJOV, SurveyModel
from alspec.survey.synthetic_curves import write_curves


def simulate(
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
        return write_curves(Path(out), n, seed)
    return simulate_survey(out, n, SurveyModel.from_config(chosen), seed, workers, "lamost")
