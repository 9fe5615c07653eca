"""The pool: every spectrum of the survey, read from its files onto one wavelength grid
(workflow/rules/pool.smk).

    formats.py     spectrum files in every common layout: LAMOST, SDSS, WCS images, tables
    preprocess.py  onto common grids: resampling, air to vacuum, resolution, normalisation
    ingest.py      shards of files into Zarr stores, gathered into one catalogue
    store.py       the stores as xarray Datasets: a shard, the whole pool, rows by id
    steps.py       shard, ingest, gather
"""
