"""The runtime's workloads in the cluster: `Gateway`, `RuntimeController`, the Policy ConfigMaps.

Ownership split with the controller: Terraform declares each deployment's Policy ConfigMap
(`<deployment>-policy`, the declared policy only) and its endpoints ConfigMap
(`<deployment>-endpoints`, where each version is served). The controller owns a separate status
ConfigMap (`<deployment>-status`, never declared in Terraform) holding live weights and rollout
state, and creates it on first use; every gateway replica polls it through the Kubernetes API
(`--status-namespace`, read-only RBAC on exactly those names) and serves its weights, or the
declared ones while it does not exist. So a `terraform apply` after a ramp plans no change and
resets nothing.

Both workloads run the project image and are added once per stack (`App` adds them at synth
when the stack has none). RBAC is namespace-scoped and names its ConfigMaps.

Secrets: the gateway's admin token is mounted into the gateway and the controller, the
feedback-signing key into the gateway, each at a fixed path passed by flag
(`--admin-token-file`, `--feedback-key-file`). `RuntimeSecrets` says where they come from: by
default the stack declares both Secrets from sensitive Terraform variables (set at apply time,
`TF_VAR_tfprod_admin_token` and `TF_VAR_tfprod_feedback_key`); a team that manages its own
Secrets names them instead. Never a literal in the synthesized JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tfprod.bindings._core import Construct, TerraformVariable
from tfprod.bindings.kubernetes.config_map_v1 import ConfigMapV1
from tfprod.bindings.kubernetes.deployment_v1 import DeploymentV1
from tfprod.bindings.kubernetes.pod_disruption_budget_v1 import PodDisruptionBudgetV1
from tfprod.bindings.kubernetes.role_binding_v1 import RoleBindingV1
from tfprod.bindings.kubernetes.role_v1 import RoleV1
from tfprod.bindings.kubernetes.secret_v1 import SecretV1
from tfprod.bindings.kubernetes.service_account_v1 import ServiceAccountV1
from tfprod.bindings.kubernetes.service_v1 import ServiceV1
from tfprod.constructs._names import DEPLOYMENT_LABEL, labels, selector
from tfprod.constructs.deployment import ModelDeployment
from tfprod.constructs.errors import construct_error
from tfprod.constructs.platform import platform_of
from tfprod.constructs.serving import RUN_AS_GROUP, RUN_AS_USER
from tfprod.policy import (
    CONFIGMAP_KEY,
    ENDPOINTS_KEY,
    POLICY_MOUNT_DIR,
    Policy,
    SecretRef,
    configmap_name,
    endpoints_configmap_name,
    endpoints_json,
    mounted_profile_uri,
    policy_json,
    profile_configmap_name,
    status_configmap_name,
)

GATEWAY_PORT = 8080
"""The gateway's public port (`http`): TF Serving's API and feedback only."""
GATEWAY_ADMIN_PORT = 9090
"""The gateway's `admin` port (`--admin-port`): its admin API and /metrics."""
CONTROLLER_PORT = 8081
PROMETHEUS_URL = "http://prometheus-operated.monitoring.svc:9090"
_RESOURCES = {
    "requests": {"cpu": "250m", "memory": "256Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}
SECRETS_MOUNT_DIR = "/var/run/secrets/tfprod"
ADMIN_TOKEN_FILE = f"{SECRETS_MOUNT_DIR}/admin-token/token"
"""Where the gateway and the controller read the admin token (`--admin-token-file`)."""
FEEDBACK_KEY_FILE = f"{SECRETS_MOUNT_DIR}/feedback-key/key"
"""Where the gateway reads the feedback-signing key (`--feedback-key-file`)."""
POD_IP_VARIABLE = "POD_IP"
"""The gateway's pod IP (downward API), its `--advertise-address` for feedback relaying."""
_SECURITY = {
    "allow_privilege_escalation": False,
    "read_only_root_filesystem": True,
    "run_as_non_root": True,
    "run_as_user": RUN_AS_USER,
    "capabilities": {"drop": ["ALL"]},
}


class PolicyConfigMap(Construct):
    """The declared Policy of one deployment, in ConfigMap `<name>-policy` under `CONFIGMAP_KEY`,
    and where each of its versions is served, in ConfigMap `<name>-endpoints` under
    `ENDPOINTS_KEY` (JSON: version id -> REST base URL), so the runtime never has to rebuild
    Kubernetes names. Both are mounted into one directory of the gateway and the controller."""

    def __init__(self, scope: ModelDeployment, id: str, *, policy: Policy) -> None:
        super().__init__(scope, id)
        self.text = policy_json(policy)
        self.endpoints = {version.id: scope.versions[version.id].url for version in policy.versions}
        common = {
            **labels(name=policy.name, instance=policy.name, component="policy"),
            DEPLOYMENT_LABEL: policy.name,
        }
        provider = scope.platform.kubernetes_provider
        self.config_map = ConfigMapV1(
            self,
            "config-map",
            metadata={
                "name": configmap_name(policy.name),
                "namespace": policy.namespace,
                "labels": common,
            },
            data={CONFIGMAP_KEY: self.text},
            provider=provider,
        )
        ConfigMapV1(
            self,
            "endpoints",
            metadata={
                "name": endpoints_configmap_name(policy.name),
                "namespace": policy.namespace,
                "labels": common,
            },
            data={ENDPOINTS_KEY: endpoints_json(self.endpoints)},
            provider=provider,
        )


@dataclass(frozen=True, kw_only=True)
class _DeclaredSecret:
    """A Secret the stack declares from a sensitive Terraform variable."""

    variable: str
    secret: SecretRef
    description: str


_DECLARED_ADMIN_TOKEN = _DeclaredSecret(
    variable="tfprod_admin_token",
    secret=SecretRef(name="tfprod-admin-token", key="token"),
    description="Bearer token of the tfprod gateway's admin API (the controller uses it too).",
)
_DECLARED_FEEDBACK_KEY = _DeclaredSecret(
    variable="tfprod_feedback_key",
    secret=SecretRef(name="tfprod-feedback-key", key="key"),
    description="Key signing the request ids the tfprod gateway returns (HMAC).",
)


class RuntimeSecrets(Construct):
    """Where the gateway's admin token and feedback-signing key come from.

    Scope: a `ModelPlatformStack`, at most one per stack; when the stack declares none, the
    gateway and controller create one with the defaults."""

    def __init__(
        self,
        scope: Construct,
        id: str = "runtime-secrets",
        *,
        admin_token: SecretRef | None = None,
        feedback_key: SecretRef | None = None,
    ) -> None:
        """- `admin_token`: an existing Secret key holding the admin API's token. Default:
          None, the stack declares Secret `tfprod-admin-token` (key `token`) from the
          sensitive variable `tfprod_admin_token`.
        - `feedback_key`: an existing Secret key holding the feedback-signing key. Default:
          None, the stack declares Secret `tfprod-feedback-key` (key `key`) from the
          sensitive variable `tfprod_feedback_key`.
        """
        super().__init__(scope, id)
        self.platform = platform_of(self)
        others = [other.node.path for other in _secrets_in(self.platform) if other is not self]
        if others:
            raise construct_error(
                self, "scope", f"the stack already has RuntimeSecrets {others[0]}", "one per stack"
            )
        self.admin_token = admin_token or self._declare("admin-token", _DECLARED_ADMIN_TOKEN)
        """The Secret key mounted at `ADMIN_TOKEN_FILE`."""
        self.feedback_key = feedback_key or self._declare("feedback-key", _DECLARED_FEEDBACK_KEY)
        """The Secret key mounted at `FEEDBACK_KEY_FILE`."""

    def _declare(self, id: str, declared: _DeclaredSecret) -> SecretRef:
        how = f"Set it at apply time (TF_VAR_{declared.variable})."
        variable = TerraformVariable(
            self, f"{id}-variable", type="string", sensitive=True,
            description=f"{declared.description} {how}",
        )  # fmt: skip
        variable.override_logical_id(declared.variable)
        SecretV1(
            self,
            id,
            metadata={
                "name": declared.secret.name,
                "namespace": self.platform.namespace,
                "labels": labels(
                    name=declared.secret.name, instance=declared.secret.name, component="secret"
                ),
            },
            data={declared.secret.key: variable.string_value},
            provider=self.platform.kubernetes_provider,
        )
        return declared.secret


def _runtime_secrets(construct: Construct) -> RuntimeSecrets:
    """The `RuntimeSecrets` of `construct`'s platform stack, created with defaults if absent."""
    stack = platform_of(construct)
    found = _secrets_in(stack)
    return found[0] if found else RuntimeSecrets(stack)


def _secrets_in(stack: Construct) -> list[RuntimeSecrets]:
    return [child for child in stack.node.find_all() if isinstance(child, RuntimeSecrets)]


def _secret_volume(name: str, secret: SecretRef, file_name: str) -> dict[str, Any]:
    """A volume holding `secret`'s key as the one file `file_name`."""
    return {
        "name": name,
        "secret": {"secret_name": secret.name, "items": [{"key": secret.key, "path": file_name}]},
    }


class _RuntimeWorkload(Construct):
    """A Deployment of the project image reading every deployment's Policy, with its RBAC."""

    component: str
    """The `app.kubernetes.io/component` label and container name."""
    port: int
    """The container's HTTP port."""
    admin_port: int | None = None
    """A second port, named `admin`, for the admin API and /metrics. Default: none."""
    resources: Mapping[str, Mapping[str, str]] = _RESOURCES
    """The container's requests and limits. Default: 250m/256Mi requested, 1/512Mi limits."""
    liveness_delay_seconds: int = 15
    """Seconds before the first liveness probe. Default: 15."""

    def __init__(
        self, scope: Construct, id: str, *, image: str | None, replicas: int, field_owner: str
    ) -> None:
        super().__init__(scope, id)
        self.platform = platform_of(self)
        if isinstance(replicas, bool) or replicas < 1:
            raise construct_error(
                self, "replicas", f"{replicas!r} is below 1", "a whole number from 1 up"
            )
        self.image = image or self.platform.image.reference
        self.replicas = replicas
        self.k8s_name = f"tfprod-{field_owner}"
        self._attached = False

    def _create(
        self,
        names: Sequence[str],
        *,
        rules: Sequence[dict[str, Any]],
        args: Sequence[str],
        secrets: Sequence[dict[str, Any]] = (),
        profiled: Sequence[str] = (),
        scratch: Mapping[str, str] | None = None,
        env: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Create the workload serving the deployments `names`, once; each of `secrets` (a
        secret volume) is mounted read-only at `SECRETS_MOUNT_DIR/<volume name>`, the
        profile ConfigMap of each of `profiled` joins its deployment's policy directory, each
        of `scratch` (volume name -> mount path) is a writable emptyDir, and `env` are the
        container's environment variables."""
        if self._attached:
            return
        self._attached = True
        namespace = self.platform.namespace
        provider = self.platform.kubernetes_provider
        common = labels(name=self.k8s_name, instance=self.k8s_name, component=self.component)
        metadata = {"name": self.k8s_name, "namespace": namespace, "labels": common}
        ServiceAccountV1(
            self,
            "service-account",
            metadata={
                **metadata,
                "annotations": dict(self.platform.service_account_annotations(self.k8s_name))
                or None,
            },
            provider=provider,
        )
        RoleV1(self, "role", metadata=[metadata], rule=list(rules), provider=provider)
        RoleBindingV1(
            self,
            "role-binding",
            metadata=metadata,
            role_ref={
                "api_group": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": self.k8s_name,
            },
            subject=[{"kind": "ServiceAccount", "name": self.k8s_name, "namespace": namespace}],
            provider=provider,
        )
        match = selector(self.k8s_name, self.k8s_name)
        probe = {"tcp_socket": [{"port": "http"}], "period_seconds": 10}
        self.deployment = DeploymentV1(
            self,
            "deployment",
            metadata=metadata,
            spec={
                "replicas": str(self.replicas),
                "selector": {"match_labels": match},
                "template": {
                    "metadata": {
                        "labels": {
                            **common,
                            **self.platform.pod_identity_labels(self.k8s_name),
                        }
                    },
                    "spec": {
                        "service_account_name": self.k8s_name,
                        "security_context": {
                            "run_as_non_root": True,
                            "run_as_user": RUN_AS_USER,
                            "run_as_group": RUN_AS_GROUP,
                        },
                        "container": [
                            {
                                "name": self.component,
                                "image": self.image,
                                "args": list(args),
                                "env": list(env) or None,
                                "port": [
                                    {"name": name, "container_port": port}
                                    for name, port in _ports_of(self)
                                ],
                                "readiness_probe": probe,
                                "liveness_probe": {
                                    **probe,
                                    "initial_delay_seconds": self.liveness_delay_seconds,
                                },
                                "resources": self.resources,
                                "security_context": _SECURITY,
                                "volume_mount": [
                                    {
                                        "name": f"policy-{name}",
                                        "mount_path": f"{POLICY_MOUNT_DIR}/{name}",
                                        "read_only": True,
                                    }
                                    for name in names
                                ]
                                + [
                                    {
                                        "name": volume["name"],
                                        "mount_path": f"{SECRETS_MOUNT_DIR}/{volume['name']}",
                                        "read_only": True,
                                    }
                                    for volume in secrets
                                ]
                                + [
                                    {"name": name, "mount_path": path}
                                    for name, path in (scratch or {}).items()
                                ],
                            }
                        ],
                        "volume": [
                            {
                                "name": f"policy-{name}",
                                "projected": [
                                    {
                                        # One source per ConfigMap: the API keeps each
                                        # projection apart, and the provider reads back one
                                        # `config_map` per `sources` (two in one is a diff
                                        # at every plan, seen with the real provider).
                                        "sources": [
                                            {"config_map": [{"name": configmap_name(name)}]},
                                            {
                                                "config_map": [
                                                    {"name": endpoints_configmap_name(name)}
                                                ]
                                            },
                                        ]
                                        + (
                                            [
                                                {
                                                    "config_map": [
                                                        {"name": profile_configmap_name(name)}
                                                    ]
                                                }
                                            ]
                                            if name in profiled
                                            else []
                                        ),
                                    }
                                ],
                            }
                            for name in names
                        ]
                        + list(secrets)
                        + [{"name": name, "empty_dir": {}} for name in scratch or {}],
                    },
                },
            },
            provider=provider,
        )
        if self.replicas >= 2:
            PodDisruptionBudgetV1(
                self,
                "disruption-budget",
                metadata=metadata,
                spec={"min_available": "1", "selector": {"match_labels": match}},
                provider=provider,
            )
        ServiceV1(
            self,
            "service",
            metadata=metadata,
            spec={
                "selector": match,
                "port": [
                    {"name": name, "port": port, "target_port": name}
                    for name, port in _ports_of(self)
                ],
            },
            provider=provider,
        )


def _drift_uri(deployment: ModelDeployment) -> str | None:
    drift = deployment.policy().drift
    return None if drift is None else drift.reference_uri


def _ports_of(workload: _RuntimeWorkload) -> list[tuple[str, int]]:
    ports = [("http", workload.port)]
    if workload.admin_port is not None:
        ports.append(("admin", workload.admin_port))
    return ports


class Gateway(_RuntimeWorkload):
    """The gateway: splits, mirrors and captures requests by each deployment's policy.

    Scope: a `ModelPlatformStack`. `App` adds one per stack when none is declared.
    It reads the Policy ConfigMaps (mounted, followed as the kubelet updates them) and the
    controller's status ConfigMaps (polled through the API, read only), nothing else.
    """

    component = "gateway"
    port = GATEWAY_PORT
    admin_port = GATEWAY_ADMIN_PORT

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: str | None = None,
        replicas: int = 2,
    ) -> None:
        """- `image`: the project image. Default: None, the stack's `image` setting (by default
          "ghcr.io/tfprod/tfprod:0.1.0").
        - `replicas`: gateway replicas. Default: 2.
        """
        super().__init__(scope, id, image=image, replicas=replicas, field_owner="gateway")

    def attach(
        self, deployments: Sequence[ModelDeployment], *, explainer_url: str | None = None
    ) -> None:
        """Create the gateway for `deployments` (`App` calls it once at synth), forwarding
        explanations and captured samples to `explainer_url` when the stack has an explainer
        (default: none)."""
        names = [deployment.name for deployment in deployments]
        secrets = _runtime_secrets(self)
        explaining = [] if explainer_url is None else ["--explainer-url", explainer_url]
        self._create(
            names,
            rules=self._rules(names),
            args=[*self._args(), *explaining],
            profiled=[
                deployment.name
                for deployment in deployments
                if _drift_uri(deployment) == mounted_profile_uri(deployment.name)
            ],
            secrets=[
                _secret_volume("admin-token", secrets.admin_token, "token"),
                _secret_volume("feedback-key", secrets.feedback_key, "key"),
            ],
            env=[
                {
                    "name": POD_IP_VARIABLE,
                    "value_from": {"field_ref": {"field_path": "status.podIP"}},
                }
            ],
        )

    def _rules(self, deployments: Sequence[str]) -> list[dict[str, Any]]:
        names = [configmap_name(name) for name in deployments]
        names += [status_configmap_name(name) for name in deployments]
        return [
            {
                "api_groups": [""],
                "resources": ["configmaps"],
                "resource_names": names,
                "verbs": ["get", "watch"],
            }
        ]

    def _args(self) -> list[str]:
        return [
            "gateway",
            "--policies",
            POLICY_MOUNT_DIR,
            "--admin-token-file",
            ADMIN_TOKEN_FILE,
            "--feedback-key-file",
            FEEDBACK_KEY_FILE,
            "--advertise-address",
            f"$({POD_IP_VARIABLE})",
            "--status-namespace",
            self.platform.namespace,
            "--host",
            "0.0.0.0",
            "--port",
            str(GATEWAY_PORT),
            "--admin-port",
            str(GATEWAY_ADMIN_PORT),
        ]


CONTROLLER_LEASE = "tfprod-controller"
"""The Lease the controller replicas compete for, in the platform namespace."""


class RuntimeController(_RuntimeWorkload):
    """The controller: ramps, decides and rolls back; the only writer of the status ConfigMaps.

    Scope: a `ModelPlatformStack`. `App` adds one per stack when none is declared. Runs one
    replica: it is the single writer of rollout state.
    """

    component = "controller"
    port = CONTROLLER_PORT

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: str | None = None,
        prometheus_url: str = PROMETHEUS_URL,
    ) -> None:
        """- `image`: the project image. Default: None, the stack's `image` setting (by default
          "ghcr.io/tfprod/tfprod:0.1.0").
        - `prometheus_url`: Prometheus HTTP API the controller reads metrics from. Default:
          "http://prometheus-operated.monitoring.svc:9090" (the Prometheus Operator's service).
        """
        super().__init__(scope, id, image=image, replicas=1, field_owner="controller")
        self.prometheus_url = prometheus_url

    def attach(self, deployments: Sequence[ModelDeployment]) -> None:
        """Create the controller for `deployments` (`App` calls it once at synth)."""
        names = [deployment.name for deployment in deployments]
        admin_token = _runtime_secrets(self).admin_token
        self._create(
            names,
            rules=self._rules(names),
            args=self._args(),
            secrets=[_secret_volume("admin-token", admin_token, "token")],
        )

    def _rules(self, deployments: Sequence[str]) -> list[dict[str, Any]]:
        return [
            {
                "api_groups": [""],
                "resources": ["configmaps"],
                "resource_names": [configmap_name(name) for name in deployments],
                "verbs": ["get", "watch"],
            },
            {
                "api_groups": [""],
                "resources": ["configmaps"],
                "resource_names": [status_configmap_name(name) for name in deployments],
                "verbs": ["get", "patch", "update"],
            },
            # Kubernetes cannot limit `create` by resourceNames (the object has no name when
            # the request is authorized), so creating the status ConfigMaps needs this rule.
            {"api_groups": [""], "resources": ["configmaps"], "verbs": ["create"]},
            # Leader election: the Lease `tfprod-controller` (LEASE_NAME of
            # tfprod.runtime.controller.process); `create` cannot be limited by name either.
            {
                "api_groups": ["coordination.k8s.io"],
                "resources": ["leases"],
                "resource_names": [CONTROLLER_LEASE],
                "verbs": ["get", "update"],
            },
            {"api_groups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        ]

    def _args(self) -> list[str]:
        return [
            "controller",
            "--policies",
            POLICY_MOUNT_DIR,
            "--namespace",
            self.platform.namespace,
            "--prometheus-url",
            self.prometheus_url,
            "--admin-token-file",
            ADMIN_TOKEN_FILE,
            "--host",
            "0.0.0.0",
            "--port",
            str(CONTROLLER_PORT),
        ]
