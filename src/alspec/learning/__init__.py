"""Learning: fit a model on the answers so far and classify the whole pool with it
(workflow/rules/learning.smk).

    learners.py      what each model type is to the pipeline (light: the rules ask it)
    cnn.py           the CNN of seed 003: architecture, training, traced inference
    scikit_learn.py  random forest, gradient boosting, kNN on the features (seed 001)
    fitting.py       what both share: validation split, class balance, validation F1
    calibration.py   the probabilities brought back from the balanced classes
    inference.py     the pool streamed through a model into a prediction table
    steps.py         train, predict, gather-predictions
"""
