"""The one reader of synthesized output: layout, policies, stack choice, and its errors."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.policy.helpers import minimal_policy
from tfprod.policy import (
    Policy,
    SynthesizedError,
    deployed_stack,
    policy_file_name,
    policy_json,
    read_synthesized,
)

TFPROD = Path(__file__).resolve().parents[2] / "tfprod"


def write_output(output: Path, stacks: dict[str, list[Policy]]) -> Path:
    """A synthesized output as `App.synth()` lays it out, with `stacks` in manifest order."""
    entries: dict[str, Any] = {}
    for name, policies in stacks.items():
        directory = output / "stacks" / name
        directory.mkdir(parents=True)
        (directory / "cdk.tf.json").write_text(json.dumps({"resource": {}, "stack": name}))
        for policy in policies:
            (directory / policy_file_name(policy.name)).write_text(policy_json(policy))
        entries[name] = {
            "name": name,
            "workingDirectory": f"stacks/{name}",
            "synthesizedStackPath": f"stacks/{name}/cdk.tf.json",
        }
    (output / "manifest.json").write_text(json.dumps({"version": "0.24.0", "stacks": entries}))
    return output


def policy(name: str) -> Policy:
    return Policy.model_validate(minimal_policy(name=name))


def test_reads_stacks_in_manifest_order_with_their_documents_and_policies(
    tmp_path: Path,
) -> None:
    output = write_output(
        tmp_path / "out", {"zeta": [policy("search"), policy("ads")], "alpha": []}
    )
    synthesized = read_synthesized(output)

    assert synthesized.names == ["zeta", "alpha"]
    zeta = synthesized.stack("zeta")
    assert zeta.directory == output / "stacks" / "zeta"
    assert zeta.document() == {"resource": {}, "stack": "zeta"}
    assert [p.name for p in zeta.policies()] == ["ads", "search"]
    assert synthesized.stack("alpha").policies() == []
    assert [stack.name for stack in synthesized.only("alpha")] == ["alpha"]
    assert [stack.name for stack in synthesized.only(None)] == ["zeta", "alpha"]


def test_an_unknown_stack_names_the_stacks_there_are(tmp_path: Path) -> None:
    output = write_output(tmp_path / "out", {"shop": [], "ads": []})
    with pytest.raises(SynthesizedError) as error:
        read_synthesized(output).stack("shopp")
    assert str(error.value) == f"no stack 'shopp' in {output}; stacks: shop, ads"


def test_an_invalid_policy_file_names_file_and_field(tmp_path: Path) -> None:
    output = write_output(tmp_path / "out", {"shop": [policy("search")]})
    path = output / "stacks" / "shop" / policy_file_name("search")
    document = json.loads(path.read_text())
    document["traffic"]["weights"] = {"rec-v2.0.0": 90, "rec-v2.1.0": 5}
    path.write_text(json.dumps(document))
    with pytest.raises(SynthesizedError) as error:
        read_synthesized(output).stack("shop").policies()
    assert str(error.value) == (
        f"{path}: traffic.weights: traffic weights must sum to 100 (percent); got 95"
        " (rec-v2.0.0: 90, rec-v2.1.0: 5)"
    )


def test_a_stack_document_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    output = write_output(tmp_path / "out", {"shop": []})
    path = output / "stacks" / "shop" / "cdk.tf.json"
    path.write_text("[]")
    with pytest.raises(SynthesizedError) as error:
        read_synthesized(output).stack("shop").document()
    assert str(error.value) == f"{path}: expected a JSON object"


def test_a_manifest_entry_without_its_stack_path_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / "manifest.json").write_text('{"stacks": {"shop": {"workingDirectory": "x"}}}')
    with pytest.raises(SynthesizedError) as error:
        read_synthesized(output)
    assert str(error.value) == (
        f"{output / 'manifest.json'}: stack 'shop' has no synthesizedStackPath"
    )


def test_the_stack_to_run_is_the_named_one_or_the_only_one_with_deployments(
    tmp_path: Path,
) -> None:
    output = write_output(tmp_path / "out", {"net": [], "rec": [policy("rec")]})
    synthesized = read_synthesized(output)

    assert deployed_stack(synthesized, None).name == "rec"
    assert deployed_stack(synthesized, "rec").name == "rec"
    with pytest.raises(SynthesizedError) as error:
        deployed_stack(synthesized, "net")
    assert str(error.value) == "stack 'net' declares no model deployment"


def test_reading_synthesized_output_loads_no_cdktn_jsii_or_constructs() -> None:
    code = (
        "import sys, tfprod.policy.synthesized;"
        " print(sorted(m for m in ('cdktn', 'cdktf', 'jsii', 'constructs', 'tfprod.constructs')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "[]\n"


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_one_module_of_tfprod_reads_the_cdktf_manifest() -> None:
    # The registry keeps a manifest.json of its own per upload (runtime/registry/layout.py).
    readers = sorted(
        path.relative_to(TFPROD).as_posix()
        for path in TFPROD.rglob("*.py")
        if {"manifest.json", "synthesizedStackPath"} & _string_constants(path)
        and "runtime/registry" not in path.as_posix()
    )
    assert readers == ["policy/synthesized.py"]
