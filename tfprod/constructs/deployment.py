"""`ModelDeployment`: one model served in one environment, and every version it runs.

The deployment starts with its stable version. Experiment, observability and safety
constructs take the deployment as their scope and add to it: versions with their roles
(canary, challenger, shadow, fallback) and the policy sections. At synth `App` turns the
whole into one `tfprod.policy.Policy` (see `policy()`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from tfprod.bindings._core import Construct
from tfprod.bindings.kubernetes.service_account_v1 import ServiceAccountV1
from tfprod.constructs._names import labels, slug
from tfprod.constructs.errors import ConstructError, SynthError, construct_error
from tfprod.constructs.platform import ProjectImage, platform_of
from tfprod.constructs.registry import ModelRef
from tfprod.constructs.serving import (
    AutoScaling,
    ServingResources,
    ServingVersion,
    VersionWorkload,
)
from tfprod.policy import ControllerSettings, Policy, Role, StickyKey
from tfprod.policy.declaration import declared_document
from tfprod.policy.names import (
    DNS_1035_LABEL_RULE,
    DNS_1123_LABEL_RULE,
    MAX_NAME,
    dns_name,
    is_dns_1035_label,
    is_dns_label,
)
from tfprod.policy.problems import validation_lines
from tfprod.policy.versions import WEIGHT_TOLERANCE, check_version_id

SERVING_IMAGE = "tensorflow/serving:2.19.0"
TFPROD_IMAGE = ProjectImage().reference
"""The default tfprod image: "ghcr.io/tfprod/tfprod:0.1.0" (a stack's `image` setting)."""
Section = Literal["canary", "ab_test", "shadow", "monitor", "drift", "safety", "debugger"]
"""Policy sections a construct under the deployment may set, at most once each."""

ScalingRule = tuple[str, Callable[[AutoScaling], bool], Callable[[AutoScaling], str], str]
# (field, holds when wrong, problem, allowed): checked in order.
_SCALING_RULES: tuple[ScalingRule, ...] = (
    (
        "min_replicas",
        lambda s: isinstance(s.min_replicas, bool) or s.min_replicas < 1,
        lambda s: f"{s.min_replicas!r} is below 1",
        "a whole number from 1 up",
    ),
    (
        "max_replicas",
        lambda s: s.max_replicas < s.min_replicas,
        lambda s: f"{s.max_replicas!r} is below min_replicas ({s.min_replicas!r})",
        "a whole number from min_replicas up",
    ),
    (
        "target_cpu_percent",
        lambda s: s.target_cpu_percent is not None and not 1 <= s.target_cpu_percent <= 100,
        lambda s: f"{s.target_cpu_percent!r} is out of range",
        "1 to 100, or None",
    ),
    (
        "target_requests_per_second",
        lambda s: (
            s.target_requests_per_second is not None
            and not (
                math.isfinite(s.target_requests_per_second) and s.target_requests_per_second > 0
            )
        ),
        lambda s: f"{s.target_requests_per_second!r} is not above 0",
        "a number above 0, or None",
    ),
    (
        "target_cpu_percent",
        lambda s: s.target_cpu_percent is None and s.target_requests_per_second is None,
        lambda s: (
            "no scaling target: both target_cpu_percent and target_requests_per_second are None"
        ),
        "set at least one of them",
    ),
)


class ModelDeployment(Construct):
    """One model served in one environment: its stable version, and what the policy adds.

    Scope: a `ModelPlatformStack` (or a construct inside one).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        model: ModelRef | str,
        version: str,
        environment: str,
        scaling: AutoScaling | None = None,
        replicas: int = 2,
        resources: ServingResources | None = None,
        sticky: StickyKey | None = None,
        controller: ControllerSettings | None = None,
        serving_image: str = SERVING_IMAGE,
        tfprod_image: str | None = None,
    ) -> None:
        """Declare the deployment `name` of `model` at its stable `version`.

        - `name`: the deployment's Kubernetes name; a Python-style name is mapped by
          `tfprod.policy.names.dns_name` ("recommendation_engine" -> "recommendation-engine").
        - `model`: a `ModelRegistry.model(...)` reference, or a model name in the stack's registry.
        - `scaling`: autoscale every version with an HPA v2. Default: None, fixed `replicas`.
        - `replicas`: replicas per version without `scaling`. Default: 2.
        - `resources`: CPU and memory per model server. Default: `ServingResources()`.
        - `sticky`: pin callers to a version by a header, cookie or field. Default: none.
        - `controller`: check cadence and evidence thresholds. Default: `ControllerSettings()`.
        - `serving_image`: the model server image. Default: "tensorflow/serving:2.19.0".
        - `tfprod_image`: the image of the init container. Default: None, the stack's `image`
          setting (by default "ghcr.io/tfprod/tfprod:0.1.0").
        """
        super().__init__(scope, id)
        self.platform = platform_of(self, scope)
        if not is_dns_1035_label(mapped := dns_name(name)):
            shown = f"{name!r}" if mapped == name else f"{name!r} (as {mapped!r})"
            raise construct_error(self, "name", f"{shown} is not valid", DNS_1035_LABEL_RULE)
        name = mapped
        if not is_dns_label(environment):
            raise construct_error(
                self, "environment", f"{environment!r} is not a DNS-1123 label", DNS_1123_LABEL_RULE
            )
        if isinstance(model, ModelRef):
            self.registry = model.registry.uri
            self.model = model.name
        else:
            self.registry = self.platform.registry.uri
            self.model = model
        if not is_dns_1035_label(self.model):
            raise construct_error(
                self, "model", f"{self.model!r} is not valid", DNS_1035_LABEL_RULE
            )
        if scaling is not None:
            _check_scaling(self, scaling)
        if scaling is None and (isinstance(replicas, bool) or replicas < 1):
            raise construct_error(
                self, "replicas", f"{replicas!r} is below 1", "a whole number from 1 up"
            )
        self.name = name
        self.environment = environment
        self.stable_version = version
        self.scaling = scaling
        self.replicas = replicas
        self.resources = resources if resources is not None else ServingResources()
        self.sticky = sticky
        self.controller = controller if controller is not None else ControllerSettings()
        self.serving_image = serving_image
        self.tfprod_image = tfprod_image or self.platform.image.reference
        self.namespace = self.platform.namespace
        self.service_account_name = f"{name}-model-server"
        self._roles: dict[str, Role] = {}
        self._weights: dict[str, float] = {}
        self._sections: dict[Section, tuple[Construct, BaseModel]] = {}
        self.versions: dict[str, ServingVersion] = {}
        ServiceAccountV1(
            self,
            "service-account",
            metadata={
                "name": self.service_account_name,
                "namespace": self.namespace,
                "labels": labels(name=name, instance=name, component="model-server"),
                "annotations": dict(
                    self.platform.service_account_annotations(self.service_account_name)
                )
                or None,
            },
            provider=self.platform.kubernetes_provider,
        )
        self.add_version(version, "stable", 0.0, by=self, field="version")

    def role_of(self, version_id: str) -> Role | None:
        """The role of a declared version, None if it is not declared."""
        return self._roles.get(version_id)

    def add_version(
        self, version_id: str, role: Role, percent: float, *, by: Construct, field: str
    ) -> ServingVersion:
        """Run `version_id` in `role`, with `percent` of live traffic taken from the stable.

        Errors name `field` of `by`, the construct asking.
        """
        try:
            check_version_id(version_id, "version id")
        except PydanticCustomError as error:
            raise construct_error(by, field, error.message()) from None
        if version_id in self._roles:
            raise construct_error(
                by,
                field,
                f"{version_id!r} is already declared with role {self._roles[version_id]!r}",
                f"a version not yet declared in {self.node.path}",
            )
        k8s_name = f"{self.name}-{slug(version_id)}"
        if len(k8s_name) > MAX_NAME:
            raise construct_error(
                by,
                field,
                f"{version_id!r} makes the Kubernetes name {k8s_name!r} {len(k8s_name)}"
                f" characters long",
                f"deployment name and version id of at most {MAX_NAME - 1} characters together",
            )
        clash = [other for other in self.versions.values() if other.workload.k8s_name == k8s_name]
        if clash:
            raise construct_error(
                by,
                field,
                f"{version_id!r} and {clash[0].workload.version!r} both become {k8s_name!r}",
                "version ids that differ after lower-casing and replacing '.' and '_' by '-'",
            )
        others = math.fsum(self._weights.values())
        if percent > 0 and others + percent >= 100 - WEIGHT_TOLERANCE:
            raise construct_error(
                by,
                field,
                f"{percent:g}% on top of the {others:g}% already given to other versions leaves"
                " the stable version no traffic",
                f"at most {100 - others:g}% minus a share for the stable version",
            )
        self._roles[version_id] = role
        if percent > 0:
            self._weights[version_id] = percent
        serving = ServingVersion(
            self,
            f"version-{slug(version_id)}",
            workload=VersionWorkload(
                deployment=self.name,
                k8s_name=k8s_name,
                namespace=self.namespace,
                model=self.model,
                version=version_id,
                role=role,
                registry=self.registry,
                service_account=self.service_account_name,
                serving_image=self.serving_image,
                tfprod_image=self.tfprod_image,
                resources=self.resources,
                scaling=self.scaling,
                replicas=self.replicas,
                identity_labels=self.platform.pod_identity_labels(self.service_account_name),
            ),
            provider=self.platform.kubernetes_provider,
        )
        self.versions[version_id] = serving
        return serving

    def set_section(self, section: Section, value: BaseModel, *, by: Construct) -> None:
        """Set a policy section; each may be set by one construct only."""
        if section in self._sections:
            owner = self._sections[section][0]
            raise construct_error(
                by,
                "scope",
                f"{self.node.path} already has a {section} section, from {owner.node.path}",
                f"one {type(by).__name__} per ModelDeployment",
            )
        self._sections[section] = (by, value)

    def policy(self) -> Policy:
        """The deployment's declared Policy; SynthError naming this path if it is invalid."""
        document = declared_document(
            name=self.name,
            namespace=self.namespace,
            environment=self.environment,
            model=self.model,
            registry=self.registry,
            stable=self.stable_version,
            roles=self._roles,
            weights=self._weights,
            controller=self.controller,
            sections={section: value for section, (_, value) in self._sections.items()},
            sticky=self.sticky,
        )
        try:
            return Policy.model_validate(document)
        except ValidationError as error:
            raise SynthError(
                "\n".join(f"{self.node.path}: {line}" for line in validation_lines(error))
            ) from None


def section_error(
    construct: Construct, error: ValidationError, rename: dict[str, str]
) -> ConstructError:
    """A ConstructError for a policy section a construct built from its props."""
    return ConstructError(
        "\n".join(
            f"{construct.node.path}: {line}" for line in validation_lines(error, rename=rename)
        )
    )


def _check_scaling(deployment: ModelDeployment, scaling: AutoScaling) -> None:
    for field, wrong, text, allowed in _SCALING_RULES:
        if wrong(scaling):
            raise construct_error(deployment, f"scaling.{field}", text(scaling), allowed)


def deployment_scope(
    construct: Construct, kind: str, scope: Construct | None = None
) -> ModelDeployment:
    """The ModelDeployment `construct` was created in; ConstructError naming its path otherwise.

    `scope`: the scope `construct` was created with, when the caller has it at hand. Default:
    None, read from the construct tree (two jsii round trips).
    """
    given = construct.node.scope if scope is None else scope
    if isinstance(given, ModelDeployment):
        return given
    where = given.node.path if given is not None else "the root"
    raise construct_error(
        construct,
        "scope",
        f"{kind} must be created with a ModelDeployment as its scope, got"
        f" {type(given).__name__} {where!r}",
        f"{kind}(deployment, id, ...)",
    )
