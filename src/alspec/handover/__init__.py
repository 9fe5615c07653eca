"""Handing over: what a session gives the astronomer (workflow/rules/handover.smk).

catalogue.py   the candidates as VOTable, FITS and CSV, with units, UCDs, precision
crossmatch.py  new or known: a sky match with the user's catalogues
samp.py        the catalogue sent to TOPCAT or Aladin over SAMP
sql.py         the session's tables as SQL views (DuckDB)
steps.py       catalogue, samp, sql
"""
