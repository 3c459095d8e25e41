"""`App`: a cdktn App that finishes tfprod's constructs before it synthesizes.

`synth()` first, for every platform stack holding `ModelDeployment`s:

1. builds each deployment's `Policy` (a cross-construct problem raises `SynthError` naming the
   deployment's path and field; all of them at once);
2. adds its Policy ConfigMap (the declared policy, Terraform-managed) and its alerting objects
   (PrometheusRule, AlertmanagerConfig, the gateway's ServiceMonitor);
3. adds a `Gateway` and a `RuntimeController` unless the stack declares them, and attaches them
   to the stack's deployments; an `Explainer` when a deployment has a ModelDebugger (unless
   declared), whose URL the gateway gets; `MetricsAdapterRules` when a deployment scales on requests
   and the stack declares none; and the Secrets its AlertmanagerConfigs reference
   (`AlertSecrets`, added unless the stack declares one); and its NetworkPolicies
   (`NetworkBoundaries`, unless the stack declares one).

Then cdktn synthesizes, once, and the governance rules run on each stack's `cdk.tf.json` as
written: error findings raise `SynthError` listing them and leave the output directory as it
was before (cdktn writes into a fresh directory that replaces the old one only on success);
warnings are printed to stderr. Each policy is then written with `policy_json` to
`<outdir>/stacks/<stack id>/<deployment>.policy.json`, the same text as its ConfigMap, for
local runs and `tfprod review`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from tfprod.bindings._core import App as CoreApp
from tfprod.constructs._names import labels
from tfprod.constructs.alert_secrets import AlertSecrets, alert_secret_refs
from tfprod.constructs.alerting import add_alerting, alertmanager_config_manifest
from tfprod.constructs.dashboards import DeploymentDashboard
from tfprod.constructs.deployment import ModelDeployment
from tfprod.constructs.errors import SynthError
from tfprod.constructs.metrics_adapter import MetricsAdapterRules
from tfprod.constructs.network import NetworkBoundaries
from tfprod.constructs.observability import Explainer
from tfprod.constructs.platform import ModelPlatformStack
from tfprod.constructs.runtime import Gateway, PolicyConfigMap, RuntimeController
from tfprod.governance import GovernanceError, check_stack
from tfprod.policy import Policy, SecretRef, policy_file_name, policy_json

_T = TypeVar("_T")


class App(CoreApp):
    """The app of a tfprod stack set; use it in place of cdktn's `App`."""

    def __init__(self, **kwargs: Any) -> None:
        """Takes cdktn `App`'s keyword arguments (e.g. `outdir`). The output directory's
        missing parents are created (cdktn creates only the directory itself)."""
        outdir = kwargs.get("outdir") or os.environ.get("CDKTF_OUTDIR")
        if outdir:
            Path(outdir).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(**kwargs)
        self._tfprod_policies: dict[str, dict[str, Policy]] | None = None

    @property
    def policies(self) -> Mapping[str, Mapping[str, Policy]]:
        """Policies by stack id, then by deployment path; built on first use (or by synth)."""
        if self._tfprod_policies is None:
            self._tfprod_policies = _finalize(self)
        return self._tfprod_policies

    def synth(self) -> None:
        """Finish every stack, synthesize, govern, write the policies (see the module docstring)."""
        policies = self.policies
        outdir = Path(self.outdir)
        with _replaced_on_success(outdir):
            super().synth()
            problems = [
                line
                for stack_id, by_path in policies.items()
                for line in _govern(stack_id, _stack_dir(outdir, stack_id) / STACK_FILE, by_path)
            ]
            if problems:
                raise SynthError("\n".join(problems))
            for stack_id, by_path in policies.items():
                directory = _stack_dir(outdir, stack_id)
                directory.mkdir(parents=True, exist_ok=True)
                for policy in by_path.values():
                    (directory / policy_file_name(policy.name)).write_text(
                        policy_json(policy), encoding="utf-8"
                    )


STACK_FILE = "cdk.tf.json"
"""The name cdktn gives each stack's synthesized document."""


def _stack_dir(outdir: Path, stack_id: str) -> Path:
    return outdir / "stacks" / stack_id


@contextmanager
def _replaced_on_success(outdir: Path) -> Iterator[None]:
    """Let the body write `outdir` afresh; keep it on success, else put the old one back.

    On success files of the old directory that the body did not write stay (as cdktn leaves
    them when it synthesizes over an old output).
    """
    kept = outdir.with_name(f".{outdir.name}.tfprod-previous")
    shutil.rmtree(kept, ignore_errors=True)
    if outdir.exists():
        outdir.rename(kept)
    (outdir / "stacks").mkdir(parents=True)  # cdktn made it when the App was created
    try:
        yield
    except BaseException:
        shutil.rmtree(outdir, ignore_errors=True)
        if kept.exists():
            kept.rename(outdir)
        raise
    if kept.exists():
        _move_missing(kept, outdir)
        shutil.rmtree(kept)


def _move_missing(source: Path, target: Path) -> None:
    """Move every file under `source` that `target` lacks into the same place under `target`."""
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_file() and not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            path.rename(destination)


def _of_type(members: Iterable[object], kind: type[_T]) -> list[_T]:
    return [member for member in members if isinstance(member, kind)]


def _finalize(app: App) -> dict[str, dict[str, Policy]]:
    # Each `node` and `node.path` read and each `find_all` is a round trip to the jsii kernel:
    # read them once per construct and once per stack.
    result: dict[str, dict[str, Policy]] = {}
    problems: list[str] = []
    for stack in _of_type(app.node.find_all(), ModelPlatformStack):
        members = stack.node.find_all()
        deployments = {d.node.path: d for d in _of_type(members, ModelDeployment)}
        if not deployments:
            continue
        policies: dict[str, Policy] = {}
        for path, deployment in deployments.items():
            try:
                policies[path] = deployment.policy()
            except SynthError as error:
                problems.append(str(error))
        if problems:
            continue
        references: list[SecretRef] = []
        for path, deployment in deployments.items():
            references.extend(_declare_policy(deployment, policies[path]))
        gateways = _of_type(members, Gateway) or [Gateway(stack, "gateway")]
        controllers = _of_type(members, RuntimeController) or [
            RuntimeController(stack, "controller")
        ]
        _add_stack_parts(stack, members, list(deployments.values()), references)
        explainer_url = _attach_explainer(stack, members, deployments, policies)
        for gateway in gateways:
            gateway.attach(list(deployments.values()), explainer_url=explainer_url)
        for controller in controllers:
            controller.attach(list(deployments.values()))
        result[stack.node.id] = policies
    if problems:
        raise SynthError("\n".join(problems))
    return result


def _attach_explainer(
    stack: ModelPlatformStack,
    members: list[Any],
    deployments: Mapping[str, ModelDeployment],
    policies: Mapping[str, Policy],
) -> str | None:
    """The stack's `Explainer` (added unless declared) for the deployments with a
    ModelDebugger; its URL, or None when none has one."""
    explained = [deployments[path] for path, policy in policies.items() if policy.debugger]
    if not explained:
        return None
    explainer = (_of_type(members, Explainer) or [Explainer(stack)])[0]
    return explainer.attach(explained)


def _declare_policy(deployment: ModelDeployment, policy: Policy) -> list[SecretRef]:
    """Add `policy`'s ConfigMaps, alerting objects and dashboard; the Secret keys its alerts
    reference."""
    PolicyConfigMap(deployment, "policy", policy=policy)
    alerting_labels = labels(name=policy.name, instance=policy.name, component="alerting")
    add_alerting(deployment, policy, namespace=policy.namespace, labels=alerting_labels)
    DeploymentDashboard(deployment, "dashboard", policy=policy)
    routing = alertmanager_config_manifest(
        policy, namespace=policy.namespace, labels=alerting_labels
    )
    return [] if routing is None else list(alert_secret_refs(routing["spec"]))


def _add_stack_parts(
    stack: ModelPlatformStack,
    members: list[Any],
    deployments: list[ModelDeployment],
    references: list[SecretRef],
) -> None:
    """The stack's alert Secrets, adapter rules and NetworkPolicies, unless declared."""
    if references:
        (_of_type(members, AlertSecrets) or [AlertSecrets(stack)])[0].declare(references)
    scales_on_requests = any(
        d.scaling is not None and d.scaling.target_requests_per_second is not None
        for d in deployments
    )
    if scales_on_requests and not _of_type(members, MetricsAdapterRules):
        MetricsAdapterRules(stack)
    if not _of_type(members, NetworkBoundaries):
        NetworkBoundaries(stack)


def _govern(stack_id: str, stack_file: Path, policies: Mapping[str, Policy]) -> list[str]:
    """Run the governance rules on a synthesized stack: error lines back, warnings to stderr."""
    try:
        findings = check_stack(json.loads(stack_file.read_text(encoding="utf-8")), policies)
    except GovernanceError as error:  # settings recorded by separate calls that clash
        return [f"{stack_id}: {error}"]
    for finding in findings:
        if finding.level != "error":
            sys.stderr.write(f"{finding}\n")
    return [str(finding) for finding in findings if finding.level == "error"]
