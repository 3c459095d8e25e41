"""`suppress` and `configure_governance`: recorded on constructs and in the stack document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.governance.stacks import build_stack, policies
from tfprod.bindings._core import App, Construct, TerraformStack
from tfprod.constructs.errors import ConstructError
from tfprod.constructs.governance import SUPPRESS_METADATA, configure_governance, suppress
from tfprod.governance import GovernanceError, audit_stack, check_stack


def test_suppress_records_metadata_and_the_stack_document(tmp_path: Path) -> None:
    recorded: list[tuple[str, object]] = []

    def extra(stack: TerraformStack, rec: Construct) -> None:
        suppress(rec, "TFP002", "one GPU node")
        suppress(stack, "TFP001", "a demo stack")
        recorded.extend((entry.type, entry.data) for entry in rec.node.metadata)

    document = build_stack(tmp_path, min_replicas=1, extra=extra)
    assert recorded == [(SUPPRESS_METADATA, {"rule": "TFP002", "reason": "one GPU node"})]
    assert document["//"]["tfprod"] == {
        "suppressions": [
            {"path": "shop", "rule": "TFP001", "reason": "a demo stack"},
            {"path": "shop/rec", "rule": "TFP002", "reason": "one GPU node"},
        ]
    }
    assert check_stack(document, policies(safety=None)) == []


def test_recorded_suppressions_survive_the_json_file(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        del stack
        suppress(rec, "TFP002", "one GPU node")

    document = json.loads(json.dumps(build_stack(tmp_path, min_replicas=1, extra=extra)))
    audit = audit_stack(document, policies())
    assert audit.findings == ()
    assert [(f.rule, f.path, s.reason) for f, s in audit.suppressed] == [
        ("TFP002", "shop/rec/deployment", "one GPU node")
    ]


def test_suppress_without_reason_names_the_construct(tmp_path: Path) -> None:
    stack = TerraformStack(App(outdir=str(tmp_path)), "shop")
    with pytest.raises(ConstructError) as excinfo:
        suppress(Construct(stack, "rec"), "TFP001", " ")
    assert str(excinfo.value) == (
        "shop/rec: suppression of TFP001 has no reason; say why the rule does not apply here"
    )


def test_suppress_of_unknown_rule_lists_the_rules(tmp_path: Path) -> None:
    stack = TerraformStack(App(outdir=str(tmp_path)), "shop")
    with pytest.raises(ConstructError) as excinfo:
        suppress(Construct(stack, "rec"), "TFP01", "typo")
    assert str(excinfo.value) == (
        "shop/rec: rule: 'TFP01' is not a governance rule; allowed: TFP001, TFP002, TFP003,"
        " TFP004, TFP005, TFP006, TFP007, TFP008, TFP009, TFP010, TFP011"
    )


def test_suppress_outside_a_stack_is_refused(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    with pytest.raises(ConstructError) as excinfo:
        suppress(Construct(app, "loose"), "TFP001", "why not")
    assert str(excinfo.value) == (
        "loose: scope: governance settings need a construct inside a TerraformStack"
    )


def test_configured_cap_is_read_from_the_stack_document(tmp_path: Path) -> None:
    def extra(stack: TerraformStack, rec: Construct) -> None:
        del rec
        configure_governance(stack, max_rollback_seconds=200)

    findings = check_stack(build_stack(tmp_path, extra=extra), policies())
    assert [(f.rule, f.message.split(";")[0]) for f in findings] == [
        (
            "TFP009",
            "worst-case time to rollback of 'recommendation-engine' is 375 s (no data during the"
            " rollout), over the cap of 200 s",
        )
    ]


def test_configure_governance_refuses_a_cap_of_zero(tmp_path: Path) -> None:
    stack = TerraformStack(App(outdir=str(tmp_path)), "shop")
    with pytest.raises(ConstructError) as excinfo:
        configure_governance(stack, max_rollback_seconds=0)
    assert str(excinfo.value) == (
        "shop: max_rollback_seconds 0 is not valid; allowed: a number of seconds above 0"
    )


def test_a_cap_recorded_as_text_is_refused(tmp_path: Path) -> None:
    document = build_stack(tmp_path)
    document["//"]["tfprod"] = {"governance": {"max_rollback_seconds": "ten"}}
    with pytest.raises(GovernanceError) as excinfo:
        check_stack(document, policies())
    assert str(excinfo.value) == (
        "max_rollback_seconds 'ten' is not valid; allowed: a number of seconds above 0"
    )
