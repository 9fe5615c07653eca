"""The estimate sample: a stratified random sample whose answers measure the catalogue.

After the strategy has chosen its spectra, every other unanswered spectrum is put in a
stratum by whether it is a candidate (predicted in a class of interest) and by the
model's probability that it is of interest, `q`, the summed probability of the classes
of interest. Each stratum h of N_h spectra gets n_h of the sample's draws, drawn without
replacement, so every spectrum in it is asked with the known probability n_h / N_h (its
`inclusion`, recorded in the batch). Half the draws go to the candidates, whose answers
measure the precision, half to the rest, where the missed objects of interest hide;
within each half Neyman's rule on the model's own expectation of the spread,
sqrt(mean q (1 - q)), with a floor: the strata where the model expects objects of
interest get most draws, yet every stratum gets at least two, so that no part of the
pool is assumed empty unseen and each stratum's variance can be estimated
(alspec.evaluation.estimates turns the answers into the catalogue's precision and
completeness).

The strata are a pure function of `q` and the prediction, so the evaluation finds the
same strata from the same predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Edges in q of the strata of non-candidates and of candidates: the missed objects of
# interest hide among the many non-candidates of small q, the false ones among the
# candidates of the smallest q.
OTHER_EDGES = (0.0, 0.001, 0.01, 0.05, 0.2)
CANDIDATE_EDGES = (0.0, 0.9)
MINIMUM_DRAWS = 2  # per stratum: a variance needs two
# Added to every stratum's expected variance q (1 - q): the model's q is least to be
# trusted where it says "none here", so no stratum is starved of draws.
SPREAD_FLOOR = 1e-3


def strata(interest_probability: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Each spectrum's stratum: "other <i>" or "candidate <i>", i counting up in q."""
    other = np.searchsorted(OTHER_EDGES, interest_probability, side="right") - 1
    chosen = np.searchsorted(CANDIDATE_EDGES, interest_probability, side="right") - 1
    names = np.where(
        candidate,
        np.char.add("candidate ", np.maximum(chosen, 0).astype(str)),
        np.char.add("other ", np.maximum(other, 0).astype(str)),
    )
    return names.astype(object)


def population(
    ids: np.ndarray, interest_probability: np.ndarray, candidate: np.ndarray
) -> pd.DataFrame:
    """The sampled population: `id`, `q`, `candidate`, `stratum`."""
    return pd.DataFrame(
        {
            "id": ids,
            "q": np.clip(interest_probability, 0.0, 1.0),
            "candidate": candidate.astype(bool),
            "stratum": strata(interest_probability, candidate),
        }
    )


def allocate(table: pd.DataFrame, size: int) -> pd.Series:
    """Draws per stratum of `table` (`stratum`, `q`, `candidate`), `size` in all (fewer
    if the population is smaller): half to the candidates (their precision), half to
    the rest (the objects of interest the catalogue misses), the unused share of one
    going to the other; within each, `neyman`."""
    candidate = table["candidate"].to_numpy()
    wanted = min(size // 2 + size % 2, int(candidate.sum()))
    wanted = max(wanted, size - int((~candidate).sum()))
    return pd.concat(
        [neyman(table.loc[candidate], wanted), neyman(table.loc[~candidate], size - wanted)]
    )


def neyman(table: pd.DataFrame, size: int) -> pd.Series:
    """`size` draws over the strata of `table`: at least MINIMUM_DRAWS each, the rest by
    Neyman's rule N_h sqrt(mean q (1 - q) + SPREAD_FLOOR), never more than a stratum
    holds; too few for the minimum, one each to the strata of most expected spread."""
    grouped = table.groupby("stratum", sort=True)["q"]
    sizes = grouped.size()
    weight = sizes * np.sqrt(grouped.apply(lambda q: float(np.mean(q * (1 - q)))) + SPREAD_FLOOR)
    size = min(size, int(sizes.sum()))
    draws = np.minimum(sizes, MINIMUM_DRAWS)
    if draws.sum() > size:
        order = weight.sort_values(ascending=False).index[:size]
        draws[:] = 0
        draws[order] = 1
        return draws.astype(int)
    while draws.sum() < size:
        room = sizes - draws
        share = weight.where(room > 0, 0.0)
        share = share / share.sum() * (size - draws.sum())
        extra = np.minimum(np.floor(share), room).astype(int)
        if extra.sum() == 0:  # the remainder, one at a time, to the largest shares
            extra[share.idxmax()] = 1
        draws += extra
    return draws.astype(int)


def draw(table: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    """The estimate sample: rows of `table` (`population`'s columns) drawn per stratum
    without replacement (`allocate`), each with its `inclusion` probability n_h / N_h."""
    draws = allocate(table, size)
    parts = []
    for name, rows in table.groupby("stratum", sort=True):
        n = int(draws.get(name, 0))
        if n:
            chosen = rows.iloc[np.sort(rng.choice(len(rows), n, replace=False))]
            parts.append(chosen.assign(inclusion=n / len(rows)))
    columns = [*table.columns, "inclusion"]
    return pd.concat(parts) if parts else pd.DataFrame(columns=columns)
