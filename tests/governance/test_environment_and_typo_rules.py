"""TFP010-TFP011 and the production setting: which environments are production, and typos in
the versions only a fallback or an A/B challenger names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.governance.stacks import DEPLOYMENT_PATH, build_stack, policies, version
from tfprod.bindings._core import App, TerraformStack
from tfprod.constructs import App as PlatformApp, ModelDeployment, SynthError
from tfprod.constructs.errors import ConstructError
from tfprod.constructs.governance import configure_governance
from tfprod.governance import Finding, GovernanceError, Suppression, check_stack
from tfprod.governance.environments import (
    DEFAULT_NON_PRODUCTION_ENVIRONMENTS,
    DEFAULT_PRODUCTION_ENVIRONMENTS,
)
from tfprod.stacks.cluster import ClusterModelPlatform

DOC = Path(__file__).resolve().parents[2] / "docs" / "governance.md"
NO_SAFETY_NET = (
    "production deployment 'recommendation-engine' has no SafetyNet; add"
    " SafetyNet(deployment, 'safety', fallback_model=..., triggers={...})"
)


def _found(findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    return [(f.rule, f.level, f.path, f.message) for f in findings]


def _with_settings(document: dict[str, Any], **settings: Any) -> dict[str, Any]:
    document["//"]["tfprod"] = {"governance": settings}
    return document


@pytest.mark.parametrize("environment", ["prod", "prd", "live"])
def test_usual_spellings_of_production_get_the_production_rules(
    tmp_path: Path, environment: str
) -> None:
    findings = check_stack(build_stack(tmp_path), policies(environment=environment, safety=None))
    assert _found(findings) == [("TFP001", "error", DEPLOYMENT_PATH, NO_SAFETY_NET)]


def test_misspelt_production_is_a_warning_naming_the_closest_environment(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path), policies(environment="prodution", safety=None))
    assert _found(findings) == [
        (
            "TFP010",
            "warning",
            DEPLOYMENT_PATH,
            "environment 'prodution' of 'recommendation-engine' is neither production"
            " (production, prod, prd, live) nor known non-production, so the production rules"
            " skip it; did you mean 'production'? name it as listed, or list it with"
            " configure_governance(stack, production_environments=[...]) or"
            " non_production_environments=[...]",
        )
    ]


@pytest.mark.parametrize("environment", ["staging", "dev", "test", "qa"])
def test_known_non_production_environments_pass(tmp_path: Path, environment: str) -> None:
    assert check_stack(build_stack(tmp_path), policies(environment=environment)) == []


def test_a_stack_can_make_staging_production(tmp_path: Path) -> None:
    document = _with_settings(
        build_stack(tmp_path), production_environments=["production", "staging"]
    )
    findings = check_stack(document, policies(environment="staging", safety=None))
    assert _found(findings) == [("TFP001", "error", DEPLOYMENT_PATH, NO_SAFETY_NET)]


def test_a_stack_listing_its_own_environments_warns_about_the_others(tmp_path: Path) -> None:
    document = _with_settings(
        build_stack(tmp_path),
        production_environments=["prod-eu"],
        non_production_environments=["lab"],
    )
    findings = check_stack(document, policies(environment="staging"))
    assert [(f.rule, f.level) for f in findings] == [("TFP010", "warning")]
    assert findings[0].message.startswith(
        "environment 'staging' of 'recommendation-engine' is neither production (prod-eu) nor"
    )


def test_an_environment_recorded_in_both_lists_is_refused(tmp_path: Path) -> None:
    document = _with_settings(
        build_stack(tmp_path),
        production_environments=["prod"],
        non_production_environments=["prod"],
    )
    with pytest.raises(GovernanceError) as excinfo:
        check_stack(document, policies())
    assert str(excinfo.value) == (
        "environment 'prod' is listed both as production and as non-production; list it in"
        " one of production_environments and non_production_environments"
    )


def test_configure_governance_records_the_environments(tmp_path: Path) -> None:
    stack = TerraformStack(App(outdir=str(tmp_path)), "shop")
    configure_governance(
        stack, production_environments=["prod"], non_production_environments=["dev"]
    )
    assert stack.to_terraform()["//"]["tfprod"] == {
        "governance": {"production_environments": ["prod"], "non_production_environments": ["dev"]}
    }


def test_configure_governance_refuses_an_environment_that_is_not_a_label(tmp_path: Path) -> None:
    stack = TerraformStack(App(outdir=str(tmp_path)), "shop")
    with pytest.raises(ConstructError) as excinfo:
        configure_governance(stack, production_environments=["Production"])
    assert str(excinfo.value) == (
        "shop: production_environments: 'Production' is not valid; allowed: lower-case"
        " DNS-1123 labels, as a policy's environment is"
    )


def test_configure_governance_refuses_an_environment_in_both_lists(tmp_path: Path) -> None:
    stack = TerraformStack(App(outdir=str(tmp_path)), "shop")
    with pytest.raises(ConstructError) as excinfo:
        configure_governance(
            stack, production_environments=["live"], non_production_environments=["live"]
        )
    assert str(excinfo.value) == (
        "shop: environment 'live' is listed both as production and as non-production; list it"
        " in one of production_environments and non_production_environments"
    )


def test_docs_list_the_default_environments() -> None:
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    for name in (*DEFAULT_PRODUCTION_ENVIRONMENTS, *DEFAULT_NON_PRODUCTION_ENVIRONMENTS):
        assert f"`{name}`" in text, name


def _fallback(fallback: str) -> dict[str, Any]:
    return {
        "versions": [
            version("rec-v2.0.0", "stable"),
            version("rec-v2.1.0", "canary"),
            version(fallback, "fallback"),
        ],
        "safety": {
            "fallback_version": fallback,
            "triggers": {"error_rate > 5%": "immediate_rollback"},
        },
    }


def test_fallback_typo_names_the_version_it_likely_meant(tmp_path: Path) -> None:
    findings = check_stack(build_stack(tmp_path), policies(**_fallback("rec-v2.0")))
    assert _found(findings) == [
        (
            "TFP011",
            "warning",
            DEPLOYMENT_PATH,
            "fallback version 'rec-v2.0' of 'recommendation-engine' is named only by SafetyNet"
            " fallback_model and looks like a typo of 'rec-v2.0.0'; it is deployed as a version"
            " of its own and takes traffic on rollback. Name 'rec-v2.0.0' if that was meant,"
            " or suppress TFP011 saying why both versions exist",
        )
    ]


def test_fallback_to_an_older_release_passes(tmp_path: Path) -> None:
    assert check_stack(build_stack(tmp_path), policies(**_fallback("rec-v1.9.0"))) == []


def test_challenger_typo_is_a_warning(tmp_path: Path) -> None:
    changes = {
        "versions": [version("rec-v2.0.0", "stable"), version("rec-2.0.0", "challenger")],
        "canary": None,
        "ab_test": {
            "control": "rec-v2.0.0",
            "treatment": "rec-2.0.0",
            "treatment_percent": 10,
            "metrics": ["conversion_rate"],
            "min_sample_size": 1000,
            "duration_seconds": "14d",
        },
        "traffic": {"weights": {"rec-v2.0.0": 90, "rec-2.0.0": 10}},
    }
    findings = check_stack(build_stack(tmp_path), policies(**changes))
    assert [(f.rule, f.level) for f in findings] == [("TFP011", "warning")]
    assert findings[0].message.startswith(
        "challenger version 'rec-2.0.0' of 'recommendation-engine' is named only by ABTest"
        " model_b and looks like a typo of 'rec-v2.0.0'; it is deployed as a version of its"
        " own and takes traffic in the A/B test."
    )


def test_typo_rule_suppressed(tmp_path: Path) -> None:
    waiver = Suppression(path=DEPLOYMENT_PATH, rule="TFP011", reason="2.0 is a real build")
    assert check_stack(build_stack(tmp_path), policies(**_fallback("rec-v2.0")), [waiver]) == []


def test_settings_that_clash_across_calls_fail_synth_naming_the_stack(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    app = PlatformApp(outdir=str(outdir))
    stack = ClusterModelPlatform(app, "shop", registry_uri="s3://models/registry", namespace="ml")
    ModelDeployment(stack, "rec", name="rec", model="rec", version="v1", environment="qa")
    configure_governance(stack, production_environments=["qa"])
    configure_governance(stack, non_production_environments=["qa"])
    with pytest.raises(SynthError) as excinfo:
        app.synth()
    assert str(excinfo.value) == (
        "shop: environment 'qa' is listed both as production and as non-production; list it in"
        " one of production_environments and non_production_environments"
    )
    assert [path for path in outdir.rglob("*") if path.is_file()] == []
