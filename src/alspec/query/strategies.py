"""Query strategies: how informative an answer about each spectrum would be.

Each strategy is one function from class probabilities to scores, higher meaning "ask
this first", registered by name for the config (`query.strategy`):

- single model, `probabilities` (n_spectra, n_classes): entropy, least_confidence,
  smallest_margin (seed 003 section 2.2.2);
- committee, `probabilities` (n_members, n_spectra, n_classes), members being several
  models or Monte-Carlo-dropout passes of the CNN: vote_entropy, kl_divergence
  (seed 003 section 2.2.3, seed 001) and bald (the mutual information between the
  label and the model, Houlsby et al. 2011);
- random, the baseline every learning curve is compared with.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.cluster import KMeans

from alspec.errors import ConfigError

Strategy = Callable[[np.ndarray], np.ndarray]
SINGLE: dict[str, Strategy] = {}
COMMITTEE: dict[str, Strategy] = {}
RANDOM_STRATEGY = "random"  # no model: the baseline of every learning curve
TINY = 1e-12  # log2(0) guard: 0 log 0 = 0


def strategy(name: str, committee: bool = False) -> Callable[[Strategy], Strategy]:
    def register(function: Strategy) -> Strategy:
        (COMMITTEE if committee else SINGLE)[name] = function
        return function

    return register


def names() -> list[str]:
    """Every strategy the config may name."""
    return [*SINGLE, *COMMITTEE, RANDOM_STRATEGY]


@strategy("entropy")
def entropy(probabilities: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits, -Σ p log2 p (seed 003, ENT)."""
    p = np.clip(probabilities, TINY, 1.0)
    return -(probabilities * np.log2(p)).sum(axis=-1)


@strategy("least_confidence")
def least_confidence(probabilities: np.ndarray) -> np.ndarray:
    """1 - P(y*), y* the most probable class (seed 003, LC)."""
    return 1.0 - probabilities.max(axis=-1)


@strategy("smallest_margin")
def smallest_margin(probabilities: np.ndarray) -> np.ndarray:
    """1 - (P(y1*) - P(y2*)): seed 003's SM asks the smallest margin first, so the score
    rises as the margin between the two most probable classes shrinks."""
    top_two = np.sort(probabilities, axis=-1)[..., -2:]
    return 1.0 - (top_two[..., 1] - top_two[..., 0])


@strategy("vote_entropy", committee=True)
def vote_entropy(committee: np.ndarray) -> np.ndarray:
    """-Σ V(y)/C log2 V(y)/C over the classes, V(y) the members voting for y (seed 003, VE)."""
    members, _, n_classes = committee.shape
    votes = committee.argmax(axis=-1)  # (members, spectra)
    shares = np.stack([(votes == c).sum(axis=0) for c in range(n_classes)], axis=-1) / members
    return entropy(shares)


def consensus(committee: np.ndarray) -> np.ndarray:
    """The committee's mean probabilities (n_spectra, n_classes)."""
    return committee.mean(axis=0)


@strategy("kl_divergence", committee=True)
def kl_divergence(committee: np.ndarray) -> np.ndarray:
    """Mean over members of KL(member || consensus) in bits (seed 003 section 2.2.3)."""
    p = np.clip(committee, TINY, 1.0)
    q = np.clip(consensus(committee), TINY, 1.0)
    return (committee * (np.log2(p) - np.log2(q))).sum(axis=-1).mean(axis=0)


@strategy("bald", committee=True)
def bald(committee: np.ndarray) -> np.ndarray:
    """Entropy of the consensus minus the members' mean entropy: high where members are
    each confident but disagree, not where all are unsure alike."""
    return entropy(consensus(committee)) - entropy(committee).mean(axis=0)


def scores(name: str, probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The scores of strategy `name`; `probabilities` shaped as the strategy needs."""
    if name == RANDOM_STRATEGY:
        return rng.random(probabilities.shape[-2])
    if name in SINGLE:
        if probabilities.ndim != 2:
            raise ValueError(
                f"strategy {name!r} needs one model's probabilities (spectra x classes)"
            )
        return SINGLE[name](probabilities)
    if name in COMMITTEE:
        if probabilities.ndim != 3:
            raise ValueError(f"strategy {name!r} needs a committee (members x spectra x classes)")
        return COMMITTEE[name](probabilities)
    raise ConfigError(f"unknown query strategy {name!r}; known: {', '.join(names())}")


def diverse(
    scores: np.ndarray,
    features: np.ndarray,
    size: int,
    shortlist: int = 10,
    seed: int = 0,
) -> np.ndarray:
    """Indices of a batch of `size` that is informative and varied: the `shortlist` x
    `size` best-scoring spectra are split into `size` groups of similar `features`
    (k-means) and the best-scoring spectrum of each group is taken, so that a batch is
    not many near-copies of one spectrum (Zhdanov 2019, diverse mini-batch AL)."""
    best = np.argsort(-scores, kind="stable")[: shortlist * size]
    if len(best) <= size:
        return best
    groups = KMeans(size, n_init=4, random_state=seed).fit_predict(features[best])
    chosen = [best[groups == g][np.argmax(scores[best][groups == g])] for g in range(size)]
    return np.array(sorted(chosen, key=lambda i: -scores[i]))
