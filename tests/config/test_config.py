"""The configuration: the demo default validates, defaults fill in, errors name the key."""

from __future__ import annotations

import pytest
import yaml

from alspec.config import schema as cfg
from alspec.config.reference import reference
from alspec.errors import ConfigError

from conftest import REPO, run_alspec

CURVES = yaml.safe_load((REPO / "config" / "curves.yaml").read_text())


def test_demo_config_is_valid_and_complete():
    resolved = cfg.load(REPO / "config" / "config.yaml")
    assert resolved["window"] == {
        "start": 6519.0,
        "stop": 6732.0,
        "points": 140,
        "normalisation": "standard",
        "min_coverage": 0.5,
        "continuum_segment": 100,
    }
    assert resolved["dask"]["scheduler"] == "local"
    assert resolved["features"]["lines"][0]["name"] == "halpha"
    assert resolved["oracle"]["backend"] == "simulated"


def test_defaults_fill_nested_sections():
    resolved = cfg.resolve({"model": {"epochs": 3}})
    model = cfg.schema()["properties"]["model"]["properties"]
    assert resolved["model"] == {key: node["default"] for key, node in model.items()} | {
        "epochs": 3
    }
    assert resolved["model"]["architecture"] == "seed003" and len(resolved["model"]) > 10
    assert resolved["pool"]["grid"]["log10_step"] == 1e-4
    assert cfg.default("query", "batch_size") == 100


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model": {"epochs": 0}}, r"model\.epochs: 0 is less than the minimum"),
        ({"oracle": {"backend": "crowd"}}, r"oracle\.backend: 'crowd' is not one of"),
        ({"query": {"batchsize": 5}}, r"query: Additional properties"),
        ({"classes_of_interest": ["be_star"]}, r"classes_of_interest: \['be_star'\] are not"),
        ({"initial": {"source": "labelled"}}, r"initial\.labelled_set: required"),
        ({"window": {"start": 3000.0}}, r"window: start < stop, both inside pool\.grid"),
        ({"window": {"normalisation": "median"}}, r"window\.normalisation: 'median' is not one"),
        ({"query": {"committee": {"models": ["knn"]}}}, r"query\.committee\.models: \['knn'\]"),
        (
            {
                "model": {"type": "knn"},
                "initial": {"source": "external", "external": {"files": "a", "labels": "b"}},
            },
            r"model\.type must be 'cnn' \(it is 'knn'",
        ),
        (
            {
                "features": {
                    "lines": [
                        {
                            "name": "halpha",
                            "centre": 6564.6,
                            "core": [6550, 6580],
                            "continuum": [[6590, 6620], [6510, 6540]],
                        }
                    ]
                }
            },
            r"features\.lines\.0 \(halpha\): expected blue band < core start",
        ),
        ({"features": {"map": {"method": "pca"}}}, r"features\.map\.method: 'pca' is not one"),
        (
            {"oracle": {"labelstudio": {"metadata": ["ra", "teff"]}}},
            r"oracle\.labelstudio\.metadata: \['teff'\] are not in the pool catalogue",
        ),
        (
            {"oracle": {"labelstudio": {"database": {"engine": "mysql"}}}},
            r"oracle\.labelstudio\.database\.engine: 'mysql' is not one",
        ),
        ({"mode": "clustering"}, r"mode: 'clustering' is not one of"),
        (
            {"mode": "anomaly", "anomaly": {"relevance": {"epsilon2": 0.95}}},
            r"anomaly\.relevance: epsilon1 \+ epsilon2 must stay below 1",
        ),
        (
            {"mode": "anomaly", "anomaly": {"relevance_of": {"double_peak": 7}}},
            r"anomaly\.relevance_of: \{'double_peak': 7\} above relevance\.maximum 5",
        ),
        ({"slurm": {"gpus": {"train": -1}}}, r"slurm\.gpus\.train: -1 is less than the minimum"),
        (
            {"pool": {"grid": {"start": 0, "stop": 1}}, "window": {"start": 0.1, "stop": 0.9}},
            r"pool\.grid: a log-linear grid starts above 0 \(or give `points`\)",
        ),
        (
            {"pool": {"grid": {"start": 0, "stop": 1, "points": 100}}, "window": {"stop": 1}},
            r"window: start < stop, both inside pool\.grid",
        ),
        (
            {"mode": "anomaly", "pool": CURVES["pool"], "window": CURVES["window"]},
            r"features\.lines\.0 \(halpha\): .* inside pool\.grid",
        ),
        (
            {"query": {"discovery": {"prior": {"feature": "flux", "line": "halpha"}}}},
            r"query\.discovery\.prior\.feature: 'flux' is not one of",
        ),
        (
            {"query": {"discovery": {"prior": {"feature": "ew", "line": "hbeta"}}}},
            r"query\.discovery\.prior\.line: 'hbeta' is not measured",
        ),
        ({"query": {"discovery": {"max_share": 1.5}}}, r"query\.discovery\.max_share: 1\.5 is"),
        (
            {"query": {"discovery": {"sources": ["prior"]}}},
            r"query\.discovery\.prior: required when sources include prior",
        ),
        (
            {"anomaly": {"features": "raw"}},
            r"query\.discovery\.sources: discovery reads the features store",
        ),
        ({"simulate": {"snr_median": 100}}, r"simulate\.snr_median: 100 outside simulate\.snr"),
    ],
)
def test_errors_name_the_key(config, message):
    with pytest.raises(ConfigError, match=message):
        cfg.resolve(config)


def test_the_curves_config_reads_raw_values_so_no_spectral_line_is_checked():
    resolved = cfg.resolve(CURVES)
    assert resolved["pool"]["grid"] == {"start": 0, "stop": 1, "log10_step": 0.0001, "points": 100}
    assert resolved["anomaly"]["features"] == "raw"


def test_config_command_checks_a_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"iterations": -1}))
    result = run_alspec("config", "--file", bad, check=False)
    assert result.returncode == 1
    assert f"{bad}: invalid configuration" in result.stderr and "iterations" in result.stderr
    good = run_alspec("config", "--file", REPO / "config" / "config.yaml")
    assert yaml.safe_load(good.stdout)["model"]["architecture"] == "seed003"


def test_later_config_files_override_earlier_ones_key_by_key(tmp_path):
    overrides = tmp_path / "tiny.yaml"
    overrides.write_text(yaml.safe_dump({"iterations": 2, "model": {"epochs": 4}}))
    merged = cfg.load(REPO / "config" / "config.yaml", overrides)
    demo = cfg.load(REPO / "config" / "config.yaml")
    assert merged["iterations"] == 2 and merged["model"]["epochs"] == 4
    assert merged["model"]["architecture"] == demo["model"]["architecture"]
    assert cfg.setting(merged, "oracle.labelstudio.database.engine") == "sqlite"
    with pytest.raises(ConfigError, match=r"oracle\.labelstudio\.colour: no such setting"):
        cfg.setting(merged, "oracle.labelstudio.colour")
    shown = run_alspec("config", "--file", overrides, "--get", "oracle.labelstudio.url")
    assert shown.stdout == "http://127.0.0.1:8080\n"


def _schema_enums(node: dict, path: str = "") -> dict[str, list]:
    """Every enum of the schema by its dotted key (a list's: its items')."""
    found = {}
    if "enum" in node.get("items", node):
        found[path] = node.get("items", node)["enum"]
    for name, child in node.get("properties", {}).items():
        found |= _schema_enums(child, f"{path}.{name}".lstrip("."))
    return found


def test_every_schema_enum_equals_its_registry_in_code():
    """A choice is added in the code's registry and the schema together, or this fails;
    the CLI's choices are the schema's (cfg.enum)."""
    from alspec import vocabulary
    from alspec.anomaly import detectors
    from alspec.features import embedding, lines
    from alspec.learning import calibration, cnn, fitting, learners, scikit_learn
    from alspec.oracles import steps as oracle_steps
    from alspec.pool import preprocess
    from alspec.query import discovery, strategies

    registries = {
        "anomaly.detector": detectors.DETECTORS,
        "window.normalisation": preprocess.NORMALISATIONS,
        "features.map.method": embedding.MAP_METHODS,
        "model.type": tuple(learners.LEARNERS),
        "model.architecture": tuple(cnn.ARCHITECTURES),
        "model.precision": cnn.PRECISIONS,
        "model.multiclass": scikit_learn.MULTICLASS,
        "model.imbalance": fitting.IMBALANCE,
        "model.calibration": calibration.CALIBRATIONS,
        "query.strategy": strategies.names(),
        "query.discovery.sources": vocabulary.DISCOVERY_SOURCES,
        "query.discovery.prior.feature": lines.LINE_FEATURES,
        "query.discovery.prior.order": discovery.ORDERS,
        "query.committee.models": tuple(scikit_learn.CLASSIFIERS),
        "oracle.backend": oracle_steps.BACKENDS,
    }
    assert tuple(scikit_learn.CLASSIFIERS) == vocabulary.SCIKIT_LEARN_MODELS
    # choices the rules (or scripts/labelstudio) make by picking inputs, not code by name
    wiring = {
        "mode",
        "anomaly.features",
        "simulate.instrument",
        "initial.source",
        "oracle.labelstudio.database.engine",
    }
    enums = _schema_enums(cfg.schema())
    assert set(enums) == set(registries) | wiring, "a schema enum without a registry here"
    for key in registries:
        allowed = enums[key]
        assert sorted(allowed) == sorted(registries[key]), key
        assert cfg.enum(key) == allowed


def test_the_configuration_reference_is_generated_from_the_schema():
    written = (REPO / "docs" / "configuration.md").read_text()
    assert written == reference(), (
        "docs/configuration.md is stale: alspec config --reference --out docs/configuration.md"
    )
    assert '- **`model.calibration`** (default `"labelled_prior"`' in written
