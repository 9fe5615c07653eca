"""The explorer (alspec explore): a browser app over a finished iteration.

    tables.py     one row per spectrum of the pool: map, prediction, answer, metadata
    selection.py  which rows a click, a box, a lasso, a filter or "more like this" picks
    requests.py   the spectra a user asks for, written for the next iteration's query
    charts.py     the map (rasterised on the server), the spectrum, the legend
    app.py        the page: Panel widgets wired to the above
    server.py     serving it on 127.0.0.1, behind a secret

It reads the results and writes nothing but request files: an iteration that has run is
never changed.
"""
