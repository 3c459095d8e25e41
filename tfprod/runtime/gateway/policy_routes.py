"""The gateway's view of a Policy: one `Route` per deployment.

Callers address a deployment by its name (`/v1/models/recommendation-engine:predict`); the
gateway forwards to each version's model server under the registry's model name, which the
endpoints carry (`Endpoint.model_name`). Metrics label requests with the deployment name, as
the alerting rules expect.

Live variants are listed stable first, then canary, then challengers, then fallback versions,
each with its declared weight as a fraction (the Policy's percent / 100; zero weights
included, so the controller can raise them later, a rollback to the fallback included,
without a restart).
Because the gateway assigns ranges from the last listed variant upwards, growing the canary
at the stable version's expense only moves callers from stable to canary (see `Route`).
Shadow versions get the shadow test's mirror share, the safety net's fallback version becomes
the breaker's fallback, the debugger's capture rate becomes the route's capture rate, and the
feedback settings say whether callers' own request ids count. Each role held by exactly one
live version becomes a label (`/labels/stable`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError

from tfprod.policy import (
    CONFIGMAP_KEY,
    ENDPOINTS_KEY,
    Policy,
    PolicyError,
    Role,
    policy_digest,
    read_endpoints,
    read_policy,
)
from tfprod.policy.observe import DEFAULT_CAPTURE_RETENTION_SECONDS
from tfprod.policy.problems import file_problem
from tfprod.runtime.gateway.config import (
    ConfigError,
    Endpoint,
    GatewayConfig,
    Route,
    Shadow,
    StickyKey,
    Variant,
)

LIVE_ROLE_ORDER: tuple[Role, ...] = ("stable", "canary", "challenger", "fallback")


def route_from_policy(policy: Policy, endpoints: Mapping[str, Endpoint]) -> Route:
    """The route of `policy`, given the serving endpoint of each version id.

    Raises KeyError naming the version when `endpoints` lacks one the route needs."""

    def endpoint(version_id: str) -> Endpoint:
        try:
            return endpoints[version_id]
        except KeyError:
            raise KeyError(
                f"no serving endpoint for version {version_id!r} of {policy.name!r}"
            ) from None

    variants = tuple(
        Variant(
            endpoint=endpoint(version.id),
            weight=policy.traffic.weights.get(version.id, 0.0) / 100,
        )
        for role in LIVE_ROLE_ORDER
        for version in policy.with_role(role)
    )
    shadows = tuple(
        Shadow(endpoint=endpoint(version.id), fraction=policy.shadow.mirror_percent / 100)
        for version in policy.with_role("shadow")
        if policy.shadow is not None and policy.shadow.version == version.id
    )
    sticky = policy.traffic.sticky
    labels = tuple(
        (role, versions[0].id)
        for role in LIVE_ROLE_ORDER
        if len(versions := policy.with_role(role)) == 1
    )
    return Route(
        model=policy.name,
        variants=variants,
        shadows=shadows,
        sticky=None if sticky is None else StickyKey(source=sticky.source, name=sticky.name),
        fallback=None
        if policy.safety is None
        else _fallback(
            endpoint(policy.safety.fallback_version), policy, policy.safety.fallback_version
        ),
        capture_rate=0.0 if policy.debugger is None else policy.debugger.capture_rate,
        capture_redact=()
        if policy.debugger is None
        else tuple(policy.debugger.capture_redact.items()),
        capture_retention_seconds=DEFAULT_CAPTURE_RETENTION_SECONDS
        if policy.debugger is None
        else policy.debugger.capture_retention,
        client_request_ids=policy.feedback.client_request_ids,
        labels=labels,
        policy_digest=policy_digest(policy),
    )


def _fallback(endpoint: Endpoint, policy: Policy, version_id: str) -> Endpoint:
    """The fallback endpoint; renamed `<version>-fallback` when the safety net falls back to
    the stable version, so that its breaker and its answers are counted apart from the stable
    variant's. A role-fallback version is the variant itself (one upstream, one breaker)."""
    if policy.version(version_id).role == "stable":
        return replace(endpoint, name=f"{endpoint.name}-fallback")
    return endpoint


def config_from_mounted_policies(
    directory: Path, *, admin_token_file: str | None = None
) -> GatewayConfig:
    """The gateway's configuration from `<directory>/<deployment>/policy.json` and
    `endpoints.json` (version id -> REST base URL), the files a cluster mounts from each
    deployment's policy and endpoints ConfigMaps and the local platform writes alike.

    Raises ConfigError naming the file and what is wrong with it."""
    deployments = sorted(path for path in directory.glob("*") if path.is_dir())
    if not deployments:
        raise ConfigError(f"{directory}: no deployment directories with {CONFIGMAP_KEY}")
    routes = tuple(mounted_route(deployment) for deployment in deployments)
    return GatewayConfig(routes=routes, admin_token_file=admin_token_file)


def mounted_route(deployment: Path) -> Route:
    """The route of one mounted deployment directory (`policy.json`, `endpoints.json`).

    Raises ConfigError naming the file and what is wrong with it."""
    policy = _mounted_policy(deployment / CONFIGMAP_KEY)
    endpoints = _mounted_endpoints(deployment / ENDPOINTS_KEY)
    try:
        return route_from_policy(
            policy,
            {
                version: Endpoint(name=version, url=url, model_name=policy.model)
                for version, url in endpoints.items()
            },
        )
    except KeyError as error:
        raise ConfigError(f"{deployment / ENDPOINTS_KEY}: {error.args[0]}") from None


def actuation_bounds(directory: Path) -> dict[str, float]:
    """Each mounted deployment's `controller.actuation_bound_seconds`, by deployment name."""
    return {
        policy.name: policy.controller.actuation_bound_seconds
        for policy in (
            _mounted_policy(path / CONFIGMAP_KEY)
            for path in sorted(directory.glob("*"))
            if path.is_dir()
        )
    }


def _mounted_policy(path: Path) -> Policy:
    try:
        return read_policy(path)
    except PolicyError as error:
        raise ConfigError(str(error)) from None
    except ValidationError as error:
        raise ConfigError(file_problem(path, error)) from None


def _mounted_endpoints(path: Path) -> dict[str, str]:
    try:
        return read_endpoints(path)
    except PolicyError as error:
        raise ConfigError(str(error)) from None
