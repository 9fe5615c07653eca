"""alspec: active deep learning to find rare objects in surveys of millions of spectra.

One sub-package per stage of the workflow, as in workflow/rules/<stage>.smk; in each,
`steps.py` holds what the `alspec <step>` commands and the rules run, the other modules
the pure functions (arrays and tables in, arrays and tables out) the steps are made of.

    survey/      a simulated survey and its truth
    pool/        spectrum files onto one grid, in sharded Zarr stores
    features/    the window the CNN reads; PCA, line measurements, the map
    query/       which spectra to ask: strategies, the batch, discovery
    oracles/     who answers: simulated, Label Studio; every answer kept
    learning/    the models: train on the answers, classify the pool
    anomaly/     anomaly mode: detectors and relevance learning (Astronomaly)
    evaluation/  how good the candidates are; provenance
    report/      an iteration's figures
    handover/    the candidate catalogue, cross-matches, SAMP, SQL
    explorer/    a finished iteration in the browser: map, spectra, "more like this", "ask"
                 (alspec explore; no rule runs it)

Beside them: config/ (the schema and each step's settings), runtime/ (where a step
and its Dask work run), cli/ (the commands), and three bottom modules every stage
shares: vocabulary (the tables' words), layout (every path and file name of results/)
and io (atomic outputs, tables), with errors (what a user can mend).
"""

__version__ = "0.2.0"
