"""The query: which spectra to ask the oracle next (workflow/rules/query.smk).

strategies.py  how informative an answer would be: entropy, committees, ...
batch.py       the batch: the strategy's best, a random check of the candidates
discovery.py   the first examples of a rare class, before a model can find them
steps.py       cold-start, query
"""
