"""A step's settings: the config keys it reads, from the workflow's JSON or a config file."""

from __future__ import annotations

import json

import pytest
import yaml

from alspec.config import schema as cfg
from alspec.config import settings


def test_a_step_gets_only_the_keys_it_reads_nested_as_in_the_config():
    chosen = settings.for_step(cfg.resolve({}), "predict")
    assert chosen == {
        "classes": ["other", "single_peak", "double_peak"],
        "model": {
            "seed": 0,
            "calibration": "labelled_prior",
            "predict_jobs": 1,
            "predict_block_size": 8192,
            "precision": "float32",
        },
        "query": {"strategy": "entropy", "committee": {"members": 20}},
    }
    assert json.loads(settings.as_json(cfg.resolve({}), "predict")) == chosen


def test_by_hand_from_config_files_and_overrides(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"model": {"epochs": 7, "seed": 3}}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"model": {"seed": 4}}))
    read = settings.read(
        "train", files=[tmp_path / "a.yaml", tmp_path / "b.yaml"], overrides=["model.epochs=2"]
    )
    assert read["model"]["epochs"] == 2 and read["model"]["seed"] == 4
    assert read["model"]["architecture"] == "seed003", "the schema's default"
    assert settings.read("train", settings=json.dumps(read)) == read


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.epoch=2", r"model.epoch: no such setting"),
        ("model.epochs=-1", r"model.epochs: -1 is less than the minimum"),
        ("model.epochs", r"expected KEY=VALUE"),
    ],
)
def test_a_bad_override_names_the_key(override, message):
    with pytest.raises(ValueError, match=message):
        settings.read("train", overrides=[override])


def test_workflow_settings_come_alone():
    with pytest.raises(ValueError, match="give it alone"):
        settings.read("train", settings="{}", overrides=["model.epochs=2"])


def test_help_lists_each_key_read_with_its_default():
    text = settings.described("train")
    assert "model.epochs (default 30): The most epochs the CNN trains." in text
    predict = settings.described("predict")
    assert "model.calibration (default" in predict and "model.epochs" not in predict


def test_every_step_reads_keys_the_schema_has_and_its_help_lists_them():
    from alspec.cli import parser
    from alspec.cli.common import COMMANDS

    resolved = cfg.resolve({})
    for step in settings.READS:
        assert step in COMMANDS, f"settings.READS names {step}, which is no command"
        assert settings.for_step(resolved, step), step
        assert settings.described(step).strip(), step
    assert "config keys it reads:" in parser()._subparsers._group_actions[0].choices["train"].epilog
