"""`App`: a cdktn App that finishes tfprod's constructs before it synthesizes.

`synth()` first, for every platform stack holding `ModelDeployment`s:

1. builds each deployment's `Policy` (a cross-construct problem raises `SynthError` naming the
   deployment's path and field; all of them at once);
2. adds its Policy ConfigMap (the declared policy, Terraform-managed) and its alerting objects
   (PrometheusRule, AlertmanagerConfig, the gateway's ServiceMonitor);
3. adds a `Gateway` and a `RuntimeController` unless the stack declares them, and attaches them
   to the stack's deployments;
4. runs the governance rules on the stack: error findings raise `SynthError` listing them,
   warnings are printed to stderr.

Then cdktn synthesizes, and each policy is written with `policy_json` to
`<outdir>/stacks/<stack id>/<deployment>.policy.json`, the same text as its ConfigMap, for
local runs and `tfprod review`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from tfprod.bindings._core import App as CoreApp
from tfprod.bindings._core import Construct, TerraformStack
from tfprod.constructs._names import labels
from tfprod.constructs.alerting import add_alerting
from tfprod.constructs.deployment import ModelDeployment
from tfprod.constructs.errors import SynthError
from tfprod.constructs.platform import ModelPlatformStack
from tfprod.constructs.runtime import Gateway, PolicyConfigMap, RuntimeController
from tfprod.governance import check_stack
from tfprod.policy import Policy, policy_file_name, policy_json

_T = TypeVar("_T")


class App(CoreApp):
    """The app of a tfprod stack set; use it in place of cdktn's `App`."""

    def __init__(self, **kwargs: Any) -> None:
        """Takes cdktn `App`'s keyword arguments (e.g. `outdir`)."""
        super().__init__(**kwargs)
        self._tfprod_policies: dict[str, dict[str, Policy]] | None = None

    @property
    def policies(self) -> Mapping[str, Mapping[str, Policy]]:
        """Policies by stack id, then by deployment path; built on first use (or by synth)."""
        if self._tfprod_policies is None:
            self._tfprod_policies = _finalize(self)
        return self._tfprod_policies

    def synth(self) -> None:
        """Finish every stack (see the module docstring), synthesize, write the policies."""
        policies = self.policies
        super().synth()
        for stack_id, by_path in policies.items():
            directory = Path(self.outdir) / "stacks" / stack_id
            directory.mkdir(parents=True, exist_ok=True)
            for policy in by_path.values():
                (directory / policy_file_name(policy.name)).write_text(
                    policy_json(policy), encoding="utf-8"
                )


def _of_type(scope: Construct, kind: type[_T]) -> list[_T]:
    return [child for child in scope.node.find_all() if isinstance(child, kind)]


def _finalize(app: App) -> dict[str, dict[str, Policy]]:
    result: dict[str, dict[str, Policy]] = {}
    problems: list[str] = []
    for stack in _of_type(app, ModelPlatformStack):
        deployments = _of_type(stack, ModelDeployment)
        if not deployments:
            continue
        policies: dict[str, Policy] = {}
        for deployment in deployments:
            try:
                policies[deployment.node.path] = deployment.policy()
            except SynthError as error:
                problems.append(str(error))
        if problems:
            continue
        for deployment in deployments:
            policy = policies[deployment.node.path]
            PolicyConfigMap(deployment, "policy", policy=policy)
            add_alerting(
                deployment,
                policy,
                namespace=policy.namespace,
                labels=labels(name=policy.name, instance=policy.name, component="alerting"),
            )
        gateways = _of_type(stack, Gateway) or [Gateway(stack, "gateway")]
        controllers = _of_type(stack, RuntimeController) or [RuntimeController(stack, "controller")]
        for gateway in gateways:
            gateway.attach(deployments)
        for controller in controllers:
            controller.attach(deployments)
        problems.extend(_govern(stack, policies))
        result[stack.node.id] = policies
    if problems:
        raise SynthError("\n".join(problems))
    return result


def _govern(stack: TerraformStack, policies: Mapping[str, Policy]) -> list[str]:
    """Run the governance rules: error lines back, warnings to stderr."""
    findings = check_stack(stack.to_terraform(), policies)
    for finding in findings:
        if finding.level != "error":
            sys.stderr.write(f"{finding}\n")
    return [str(finding) for finding in findings if finding.level == "error"]
