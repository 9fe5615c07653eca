"""Discovery: finding the first examples of a rare class, which the model cannot yet.

With no example of a class of interest a classifier is sure of the common class
everywhere, and uncertainty sampling asks at random: on a survey with 0.4 % emitters the
loop may never see one. So until every class of interest has `min_examples` labels, part
of each batch comes from class-agnostic sources over the pool's features
(vocabulary.DISCOVERY_SOURCES, config query.discovery.sources):

- `anomaly`: the detector's score (`alspec detect`, isolation forest): rare objects are
  outliers of the pool;
- `typical`: the most typical spectrum of each large k-means cluster of the pool that
  holds no label yet (TypiClust, Hacohen et al. 2022): the pool's kinds, one by one;
- `prior`: a feature the user names, e.g. the Hα equivalent width, most negative first.

No source is reliable on every survey, so each source's share follows its hit rate so
far, the posterior mean of a Bernoulli bandit arm (hits among its earlier picks, with a
uniform prior), the configured strategy being one arm too; the sources' share shrinks
to nothing as the scarcest class of interest reaches `min_examples`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.cluster import MiniBatchKMeans
from sklearn.neighbors import NearestNeighbors

from alspec.errors import ConfigError, MissingInput
from alspec.features.matrix import feature_matrix, prepared
from alspec.query.batch import Pick

ORDERS = ("ascending", "descending")  # of the prior's feature: which end is asked first
# A source's picks: (the eligible rows of the predictions table, how many) -> their index.
Source = Callable[[pd.DataFrame, int], pd.Index]


def scarcity(labels: pd.Series, classes_of_interest: Collection[str], min_examples: int) -> float:
    """How far the scarcest class of interest is from `min_examples` labels: 1 while one
    has none, 0 once every one has `min_examples`."""
    if min_examples <= 0:
        return 0.0
    fewest = min(int((labels == c).sum()) for c in classes_of_interest)
    return float(np.clip(1 - fewest / min_examples, 0.0, 1.0))


def hit_counts(
    answers: pd.DataFrame, arms: Sequence[str], classes_of_interest: Collection[str]
) -> dict[str, tuple[int, int]]:
    """(hits, picks) of each arm among earlier answers: picks are the answers whose
    `reason` is the arm, hits those answered a class of interest."""
    counts = {}
    for arm in arms:
        picked = answers.loc[answers["reason"] == arm, "label"]
        counts[arm] = (int(picked.isin(set(classes_of_interest)).sum()), len(picked))
    return counts


def shares(
    counts: Mapping[str, tuple[int, int]], exploit: str, scarce: float, max_share: float
) -> dict[str, float]:
    """Each arm's share of the batch. Weights are the arms' posterior mean hit rates,
    (hits + 1) / (picks + 2); the sources together get their weights' share of all,
    at most `max_share`, times `scarce` (scarcity); `exploit`, the
    configured strategy, the rest."""
    weights = {arm: (hits + 1) / (picks + 2) for arm, (hits, picks) in counts.items()}
    sources = {arm: w for arm, w in weights.items() if arm != exploit}
    total = sum(weights.values())
    explore = min(max_share, sum(sources.values()) / total) * scarce if sources else 0.0
    result = {arm: explore * w / sum(sources.values()) for arm, w in sources.items()}
    return {exploit: 1.0 - explore, **result}


def allocate(fractions: Mapping[str, float], size: int) -> dict[str, int]:
    """Whole numbers of picks summing to `size`, by the largest remainder."""
    exact = {arm: f * size for arm, f in fractions.items()}
    counts = {arm: int(np.floor(x)) for arm, x in exact.items()}
    by_remainder = sorted(exact, key=lambda arm: counts[arm] - exact[arm])
    for arm in by_remainder[: size - sum(counts.values())]:
        counts[arm] += 1
    return counts


def ranked_by(values: pd.Series, ascending: bool) -> Source:
    """A source that asks the rows whose `values` (indexed by id) come first, missing
    values last; ties keep the table's order, which the query step has shuffled."""

    def pick(table: pd.DataFrame, size: int) -> pd.Index:
        key = table["id"].map(values)
        return key.sort_values(ascending=ascending, kind="stable", na_position="last").index[:size]

    return pick


def typical(
    features: pd.DataFrame, labelled: Collection[str], seed: int, sample: int = 20_000
) -> Source:
    """TypiClust over `features` (rows indexed by id, standardised): the pool is split
    into as many k-means clusters as there are labels plus picks (fitted on a sample);
    each pick is the most typical member (the smallest mean distance to its 20 nearest
    neighbours) of one of the largest clusters that hold no label and no earlier pick."""

    def pick(table: pd.DataFrame, size: int) -> pd.Index:
        if size == 0:
            return table.index[:0]
        rng = np.random.default_rng(seed)
        x = features.to_numpy()
        k = min(len(labelled) + size, len(x))
        fit_rows = rng.choice(len(x), min(sample, len(x)), replace=False)
        kmeans = MiniBatchKMeans(k, random_state=seed, n_init=3).fit(x[fit_rows])
        cluster = pd.Series(kmeans.predict(x), index=features.index)
        covered = set(cluster.reindex(list(labelled)).dropna().astype(int))
        eligible = cluster.reindex(table["id"]).set_axis(table.index).dropna().astype(int)
        sizes = eligible.value_counts()
        chosen = []
        for c in [c for c in sizes.index if c not in covered][:size]:
            members = eligible.index[eligible.to_numpy() == c]
            members = members[rng.permutation(len(members))[:2000]]
            points = features.loc[table.loc[members, "id"]].to_numpy()
            neighbours = min(20, len(points) - 1)
            if neighbours < 1:
                chosen.append(members[0])
                continue
            distance, _ = NearestNeighbors(n_neighbors=neighbours).fit(points).kneighbors()
            chosen.append(members[np.argmin(distance.mean(axis=1))])
        return pd.Index(chosen)

    return pick


def mixed_pick(counts: Mapping[str, int], sources: Mapping[str, Source], exploit: Pick) -> Pick:
    """A batch pick (alspec.query.batch.select_batch) that asks each source its count of the
    batch, in the order of `counts`, and `exploit` the rest; every row says in `reason`
    which source chose it (the exploiting rows get the query step's reason)."""

    def pick(table: pd.DataFrame, size: int) -> pd.DataFrame:
        parts, rest = [], table
        for source, count in counts.items():
            if source not in sources or count == 0:
                continue
            chosen = rest.loc[sources[source](rest, count)]
            parts.append(chosen.assign(reason=source))
            rest = rest.drop(chosen.index)
        explored = sum(len(p) for p in parts)
        return pd.concat([*parts, exploit(rest, size - explored)])

    return pick


def pool_sources(
    names: Sequence[str],
    *,
    features: xr.Dataset,
    anomaly_scores: pd.DataFrame | None,
    prior: Mapping[str, str] | None,
    labelled: Collection[str],
    seed: int,
) -> dict[str, Source]:
    """The sources `names` over the pool: the features store (`typical`, `prior`: its
    `prior["feature"]` of line `prior["line"]`, `prior["order"]` ascending or
    descending) and the detector's scores (`anomaly`: id, score)."""
    ids = pd.Index([str(i) for i in features.id.values])
    made: dict[str, Source] = {}
    if "anomaly" in names:
        if anomaly_scores is None:
            raise MissingInput("discovery source anomaly: no detector scores (alspec detect)")
        scores = anomaly_scores.set_index(anomaly_scores["id"].astype(str))["score"]
        made["anomaly"] = ranked_by(scores, ascending=False)
    if "typical" in names:
        matrix = prepared(feature_matrix(features))
        made["typical"] = typical(pd.DataFrame(matrix, index=ids), labelled, seed)
    if "prior" in names:
        if not prior:
            raise ConfigError("discovery source prior: query.discovery.prior names no feature")
        feature, line, order = prior["feature"], prior["line"], prior["order"]
        if order not in ORDERS:
            raise ConfigError(f"query.discovery.prior.order {order!r}: one of {', '.join(ORDERS)}")
        if feature not in features or line not in features.line.values:
            raise ConfigError(
                f"query.discovery.prior: the features store has no {feature} of line {line!r}"
                f" (lines: {list(features.line.values)})"
            )
        values = pd.Series(features[feature].sel(line=line).values, index=ids)
        made["prior"] = ranked_by(values, ascending=order == "ascending")
    return made


def plan_batch(
    answers: pd.DataFrame,
    *,
    exploit_reason: str,
    sources: Sequence[str],
    classes_of_interest: Collection[str],
    min_examples: int,
    max_share: float,
    batch_size: int,
) -> dict:
    """How the next batch is shared out: the scarcity (scarcity) and,
    for the strategy (`exploit_reason`) and each source, its (hits, picks) among the
    `answers` so far (`reason`, `label`), its share and the number it asks."""
    arms = [exploit_reason, *sources]
    counts = hit_counts(answers, arms, classes_of_interest)
    scarce = scarcity(answers["label"], classes_of_interest, min_examples)
    fractions = shares(counts, exploit_reason, scarce, max_share)
    asked = allocate(fractions, batch_size)
    return {
        "scarcity": scarce,
        "arms": {
            arm: {
                "hits": counts[arm][0],
                "picks": counts[arm][1],
                "share": fractions[arm],
                "asked": asked[arm],
            }
            for arm in arms
        },
    }


def explored(plan: dict, exploit_reason: str) -> dict[str, int]:
    """The sources a plan asks anything of, and how many: `mixed_pick`'s counts."""
    return {
        arm: a["asked"] for arm, a in plan["arms"].items() if arm != exploit_reason and a["asked"]
    }
