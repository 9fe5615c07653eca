"""The oracle: who answers a batch, and every answer kept (workflow/rules/oracles.smk).
Asking (push) and answering (pull) are separate steps because a person may take days;
pull raises BatchIncomplete until every spectrum of the batch has an answer.

    labels.py             label tables: checked, merged, kept in the pool's label catalogue
    simulated.py          answers from a simulated survey's truth table
    labelstudio.py        a person in Label Studio: the project, push, pull
    labelstudio_page.py   what the labelling page shows of each spectrum
    watch.py              run the workflow on as each batch is answered
    steps.py              push, pull, training-set, watch
"""
