"""Evaluation: how good an iteration's candidates are, and what it was made from
(workflow/rules/evaluation.smk).

    metrics.py     precision with its interval (FR12), the pool sample (FR13), truth scores
    ranking.py     anomaly mode: rank-weighted score and recall of a ranking (seed 004 §4)
    summary.py     one line per iteration
    provenance.py  config, versions, commit, checksums of an iteration's inputs and products
    steps.py       evaluate, evaluate-ranking, provenance
"""
