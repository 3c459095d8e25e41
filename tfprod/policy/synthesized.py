"""Reading a synthesized output directory (`cdktf.out`) without cdktn, jsii or Node.js.

The one reader of what `App.synth()` (cdktn's synthesis plus tfprod's policy files) writes:

    <output>/manifest.json                       {"stacks": {<id>: {"synthesizedStackPath": ...}}}
    <output>/stacks/<id>/cdk.tf.json             the stack's Terraform JSON
    <output>/stacks/<id>/<deployment>.policy.json  each deployment's Policy (`policy_json`)

and, inside each stack's JSON, the endpoints ConfigMap of each deployment (`endpoints_json`).

`tfprod synth`, `validate`, `review` and `up` read through it, so they agree on the layout and
word every problem the same way: each raises `SynthesizedError`, one line naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfprod.policy.errors import PolicyError
from tfprod.policy.files import (
    ENDPOINTS_KEY,
    POLICY_FILE_SUFFIX,
    PROFILE_KEY,
    endpoints_configmap_name,
    parse_endpoints,
    profile_configmap_name,
    read_policy,
)

if TYPE_CHECKING:  # a Policy is loaded only when one is read (`policies`)
    from tfprod.policy.document import Policy

CONFIG_MAP_TYPES = ("kubernetes_config_map", "kubernetes_config_map_v1")
"""Terraform types of the ConfigMaps a stack declares (the v1 one is what constructs use)."""
MANIFEST = "manifest.json"
"""The file cdktn writes at the top of the output directory, naming every stack."""
DECLARATION_ERRORS_VARIABLE = "TFPROD_DECLARATION_ERRORS"
"""Set by `tfprod synth` to a file path: a tfprod app that ends in a declaration error (a
`ConstructError`) writes its lines there, each naming a construct path, instead of printing a
traceback. Left unset, the app fails with its traceback as any Python program does."""


class SynthesizedError(PolicyError):
    """The synthesized output cannot be read as asked; the message says which file and why."""


@dataclass(frozen=True)
class SynthesizedStack:
    """One stack of the output: its id and its synthesized Terraform JSON file."""

    name: str
    document_path: Path

    @property
    def directory(self) -> Path:
        """The stack's directory, holding its `cdk.tf.json` and policy files."""
        return self.document_path.parent

    def document(self) -> dict[str, Any]:
        """The stack's Terraform JSON."""
        document = _read_json(self.document_path, f"stack {self.name!r}")
        if not isinstance(document, dict):
            raise SynthesizedError(f"{self.document_path}: expected a JSON object")
        return document

    def policy_paths(self) -> list[Path]:
        """The policy files next to the stack, by deployment name."""
        return sorted(self.directory.glob(f"*{POLICY_FILE_SUFFIX}"))

    def policies(self) -> list[Policy]:
        """Every deployment's Policy, by deployment name; an invalid one names its first
        problem with the file and the field."""
        return [_policy(path) for path in self.policy_paths()]

    def endpoints(self, deployment: str) -> dict[str, str]:
        """Where each version of `deployment` is served (version id -> REST base URL), from
        the endpoints ConfigMap the stack declares for it (`endpoints_configmap_name`)."""
        name = endpoints_configmap_name(deployment)
        document = self.document()
        for kind in CONFIG_MAP_TYPES:
            for resource in (document.get("resource", {}).get(kind) or {}).values():
                if name in _metadata_names(resource):
                    where = f"{self.document_path}: ConfigMap {name!r} key {ENDPOINTS_KEY!r}"
                    text = (resource.get("data") or {}).get(ENDPOINTS_KEY)
                    if not isinstance(text, str):
                        raise SynthesizedError(f"{where}: missing")
                    try:
                        return parse_endpoints(text, where=where)
                    except PolicyError as error:
                        raise SynthesizedError(str(error)) from None
        raise SynthesizedError(
            f"{self.document_path}: no ConfigMap {name!r}: deployment {deployment!r} is not"
            " declared in this stack"
        )

    def profile(self, deployment: str) -> str | None:
        """The reference profile JSON a `DriftDetector` declared for `deployment` in its
        profile ConfigMap (`profile_configmap_name`); None when it declared none."""
        name = profile_configmap_name(deployment)
        document = self.document()
        for kind in CONFIG_MAP_TYPES:
            for resource in (document.get("resource", {}).get(kind) or {}).values():
                if name in _metadata_names(resource):
                    text = (resource.get("data") or {}).get(PROFILE_KEY)
                    if not isinstance(text, str):
                        raise SynthesizedError(
                            f"{self.document_path}: ConfigMap {name!r} key {PROFILE_KEY!r}: missing"
                        )
                    return text
        return None


@dataclass(frozen=True)
class Synthesized:
    """The stacks a synthesis wrote into `output`, in manifest order."""

    output: Path
    stacks: tuple[SynthesizedStack, ...]

    def __iter__(self) -> Iterator[SynthesizedStack]:
        return iter(self.stacks)

    @property
    def names(self) -> list[str]:
        """The stack ids, in manifest order."""
        return [stack.name for stack in self.stacks]

    def stack(self, name: str) -> SynthesizedStack:
        """The stack `name`; the error lists the stacks there are."""
        for stack in self.stacks:
            if stack.name == name:
                return stack
        raise SynthesizedError(f"no stack {name!r} in {self.output}; stacks: {_listed(self.names)}")

    def only(self, stack: str | None) -> Sequence[SynthesizedStack]:
        """`[self.stack(stack)]`, or every stack when `stack` is None."""
        return self.stacks if stack is None else [self.stack(stack)]


def read_synthesized(output: Path) -> Synthesized:
    """The manifest of `output` and the stacks it names; SynthesizedError when there is none."""
    if not output.is_dir():
        raise SynthesizedError(
            f"{output}: no such directory; synthesize first (e.g. python examples/app.py)"
        )
    manifest_path = output / MANIFEST
    if not manifest_path.is_file():
        raise SynthesizedError(f"{output}: no {MANIFEST}; is it a cdktf.out directory?")
    manifest = _read_json(manifest_path, "the manifest")
    entries = manifest.get("stacks") if isinstance(manifest, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise SynthesizedError(f"{manifest_path}: expected a non-empty object at stacks, got none")
    stacks = []
    for name, entry in entries.items():
        stack_path = entry.get("synthesizedStackPath") if isinstance(entry, dict) else None
        if not isinstance(stack_path, str):
            raise SynthesizedError(f"{manifest_path}: stack {name!r} has no synthesizedStackPath")
        stacks.append(SynthesizedStack(name=name, document_path=output / stack_path))
    return Synthesized(output=output, stacks=tuple(stacks))


def deployed_stack(synthesized: Synthesized, stack: str | None) -> SynthesizedStack:
    """The stack to run: `stack`, else the only one that declares model deployments.

    SynthesizedError when `stack` declares none, or when it is left out and not exactly one
    stack has deployments (the error lists those that have)."""
    if stack is not None:
        chosen = synthesized.stack(stack)
        if not chosen.policy_paths():
            raise SynthesizedError(f"stack {stack!r} declares no model deployment")
        return chosen
    with_policies = [candidate for candidate in synthesized if candidate.policy_paths()]
    if len(with_policies) != 1:
        found = _listed([candidate.name for candidate in with_policies])
        raise SynthesizedError(
            f"name the stack to run; stacks with model deployments in {synthesized.output}: {found}"
        )
    return with_policies[0]


def _metadata_names(resource: Any) -> list[Any]:
    """The names in a resource's `metadata`, one block (an object) or a list of them."""
    metadata = resource.get("metadata") if isinstance(resource, dict) else None
    blocks = metadata if isinstance(metadata, list) else [metadata]
    return [block.get("name") for block in blocks if isinstance(block, dict)]


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names) or "none"


def _policy(path: Path) -> Policy:
    from pydantic import ValidationError

    from tfprod.policy.problems import file_problem

    try:
        return read_policy(path)
    except ValidationError as error:
        raise SynthesizedError(file_problem(path, error)) from None


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SynthesizedError(f"{path}: no such file ({what})") from None
    except OSError as error:
        raise SynthesizedError(f"{path}: cannot read {what}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SynthesizedError(f"{path}: {what} is not valid JSON: {error}") from None
