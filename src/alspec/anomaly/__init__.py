"""Anomaly mode (seed 004, Astronomaly): anomaly scores re-ranked by what the astronomer
finds relevant (workflow/rules/anomaly.smk).

    detectors.py  isolation forest, local outlier factor: every spectrum's score
    relevance.py  eq. 1-3: the scores re-ranked by the relevance learnt from answers
    steps.py      detect, rank
"""
