"""A simulated survey with its truth, so that every capability can be judged against
what is known (workflow/rules/survey.smk).

    stars.py             the stars: kinds and physical parameters, from one seed
    spectra.py           each star's spectrum as LAMOST (or Ondřejov) observes it
    simulate.py          the survey written as FITS files and a truth table
    synthetic_curves.py  seed 004's Table 1 curves, for anomaly mode
    steps.py             simulate
"""
