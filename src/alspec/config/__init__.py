"""The configuration: its schema (defaults, validation), the cross-field rules, the keys
each step reads, and the generated reference.

    schema.py     load and resolve a config against config.schema.yaml; defaults
    checks.py     the rules that relate several keys
    settings.py   which keys each step reads, as the rules hand them over
    reference.py  docs/configuration.md
"""
