"""The report of an iteration: what the model learned, what it asks and why, how good the
candidates are, and whether another iteration is worth the labelling
(workflow/rules/report.smk).

Each figure lands in results/iterations/<n>/report/ (names in alspec.layout.REPORT_FILES)
with the table it was drawn from beside it (.csv or .json), so that what a figure shows
can be checked. Snakemake's report bundles them (`snakemake --report results/report.html`).

    iteration.py  an iteration's files, and each figure with the data it shows
    history.py    the learning curve, the candidates' change, the stopping advice
    maps.py       the pool's map, aggregated by datashader
    gallery.py    the candidates' spectra
    figures.py    the charts
    steps.py      report
"""
