"""The explorer (alspec explore): a browser app over a finished iteration.

    tables.py     one row per spectrum of the pool: map, prediction, answer, metadata
    selection.py  which rows a click, a box, a lasso, a filter or "more like this" picks
    requests.py   the spectra a user asks for, written for the next iteration's query
    charts.py     the map (rasterised on the server), its legend, a spectrum's chart
    spectra.py    one spectrum read from the pool's stores
    export.py     a selection as CSV, VOTable, or to TOPCAT over SAMP
    app.py        the page: Panel widgets wired to the above
    server.py     the secret that guards it
    steps.py      `explore`: load, then serve on 127.0.0.1

It reads the results and writes nothing but request files: an iteration that has begun
is never changed.
"""
