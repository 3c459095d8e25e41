"""The gateway's own configuration: a small frozen document read from JSON.

It mirrors the Policy's roles one to one, so `policy_routes.route_from_policy` stays a plain
mapping: stable/canary/challenger/fallback versions become `variants` (in that order), shadow
versions become `shadows`, the safety net's fallback version becomes `fallback`, and the
policy's capture rate and sticky key land on the route. The admin token is never part of the
document: it names an environment variable or a file that holds it. Every default is written
once, on the dataclasses; the JSON reader takes it from there.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from tfprod.runtime.gateway.capture import REDACTIONS, Redaction

StickySource = Literal["header", "cookie", "field"]
STICKY_SOURCES: tuple[str, ...] = get_args(StickySource)


class ConfigError(ValueError):
    """The gateway configuration is invalid; the message names the field and the bad value."""


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """One model server endpoint: `url` is its REST base (`http://host:port`).

    `model_name` defaults to the route's model name; `version` left out means the server's
    default (latest) version, as in TF Serving's `/v1/models/{name}:predict`."""

    name: str
    url: str
    model_name: str | None = None
    version: str | None = None

    def model_path(self, model: str) -> str:
        """`/v1/models/NAME[/versions/V]` on this endpoint, for the route's `model`."""
        path = f"/v1/models/{self.model_name or model}"
        return path if self.version is None else f"{path}/versions/{self.version}"


@dataclass(frozen=True, kw_only=True)
class Variant:
    """A live variant: gets `weight` of the route's traffic (weights are normalised)."""

    endpoint: Endpoint
    weight: float


@dataclass(frozen=True, kw_only=True)
class Shadow:
    """A shadow target: a `fraction` of requests are mirrored to it after the primary answers."""

    endpoint: Endpoint
    fraction: float


@dataclass(frozen=True, kw_only=True)
class StickyKey:
    """Where the request key for sticky assignment comes from.

    `name` is a header name, a cookie name, or a dotted path into the JSON body
    (`user_id`, `instances.0.user_id`). Reading a body field costs a JSON parse per request."""

    source: StickySource
    name: str


@dataclass(frozen=True, kw_only=True)
class Route:
    """Everything the gateway does for one model name.

    Variants hold ranges of [0, 1) from the last listed one upwards (the first listed, usually
    the stable version, holds the top, the second sits just below), so growing the second
    variant's share at the expense of the first only moves users from the first to it: list the
    variant being ramped (the canary) second. `sticky` left out: weighted random per request.
    `fallback` left out: an open breaker answers 503; it may be one of the variants (the same
    name and upstream), which weights can then reach too. `capture_rate` 0: no capture.
    `capture_redact` (default none) drops or hashes the named JSON members of captured bodies,
    `capture_retention_seconds` (default 86,400: one day) bounds how long a captured record is
    kept (see the capture module). `confidence_rate` (default 1: every answer) is the share of
    200 answers parsed, after they are sent, for the prediction confidence histogram; lower it
    for large batch answers. `client_request_ids` (default off, the Policy's
    `feedback.client_request_ids`): feedback may also name the caller's own `X-Request-Id`,
    joined in this replica's memory. `labels` (default none) name variants for `/labels/L` paths
    besides their own names (a Policy's roles: `stable`, `canary`, ...). `policy_digest`
    (default none) is the digest of the Policy the route was read from, which status documents
    are written against."""

    model: str
    variants: tuple[Variant, ...]
    shadows: tuple[Shadow, ...] = ()
    sticky: StickyKey | None = None
    fallback: Endpoint | None = None
    capture_rate: float = 0.0
    capture_redact: tuple[tuple[str, Redaction], ...] = ()
    capture_retention_seconds: float = 86_400.0
    confidence_rate: float = 1.0
    client_request_ids: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    policy_digest: str | None = None


@dataclass(frozen=True, kw_only=True)
class BreakerConfig:
    """`failure_threshold` consecutive failures (connection error, timeout or 5xx) open an
    upstream's breaker for `open_seconds`; then one trial request decides whether it closes."""

    failure_threshold: int = 5
    open_seconds: float = 10.0


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    """The gateway's configuration (see the module docstring for the Policy mapping).

    Defaults: 1 MiB bodies, 10 s upstream timeout, shadows time out after 2 s with at most 64
    in flight (more are dropped and counted), 10,000 captured records queued (more are dropped
    and counted), feedback remembers 100,000 counted events (and callers' own request ids,
    where accepted; see the feedback module). No admin token source: the
    admin API refuses every call. `seed` makes unkeyed routing and sampling reproducible."""

    routes: tuple[Route, ...]
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    max_body_bytes: int = 1 << 20
    upstream_timeout_seconds: float = 10.0
    upstream_connections: int = 256
    shadow_timeout_seconds: float = 2.0
    shadow_max_in_flight: int = 64
    capture_queue_size: int = 10_000
    feedback_window: int = 100_000
    admin_token_env: str | None = None
    admin_token_file: str | None = None
    seed: int | None = None
    explainer_url: str | None = None
    """`http(s)://host:port` of the explainer (`tfprod explainer`), which explain calls and
    captured exchanges go to (see the explain_forward module). Default: none, explain calls
    answer 404 and captured exchanges stay in the gateway."""

    def route(self, model: str) -> Route | None:
        return next((r for r in self.routes if r.model == model), None)

    def admin_token(self) -> str | None:
        """Reads the admin token from its environment variable or file, at start-up only."""
        if self.admin_token_env is not None:
            token = os.environ.get(self.admin_token_env, "")
            if not token:
                raise ConfigError(
                    f"admin_token_env: environment variable {self.admin_token_env} is not set"
                )
            return token
        if self.admin_token_file is not None:
            try:
                token = Path(self.admin_token_file).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ConfigError(
                    f"admin_token_file: cannot read {self.admin_token_file}: {error.strerror}"
                ) from None
            if not token:
                raise ConfigError(f"admin_token_file: {self.admin_token_file} is empty")
            return token
        return None

    @classmethod
    def from_dict(cls, data: object) -> GatewayConfig:
        """Builds a config from parsed JSON, naming the exact field of any error."""
        return _Reader(data, "").gateway()


def _defaults(cls: type) -> dict[str, Any]:
    """Each field's default, as the dataclass declares it (the one place defaults live)."""
    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


_GATEWAY_DEFAULTS = _defaults(GatewayConfig)
_BREAKER_DEFAULTS = _defaults(BreakerConfig)
_ROUTE_DEFAULTS = _defaults(Route)
_MIN_RETENTION_SECONDS = 0.001
_GATEWAY_KEYS = {f.name for f in fields(GatewayConfig)}


class _Reader:
    """Reads one JSON object at `path`, checking types and ranges field by field."""

    def __init__(self, data: object, path: str) -> None:
        self.path = path
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path or 'config'}: must be an object, got {_show(data)}")
        self.data: Mapping[str, Any] = data

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def only(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise ConfigError(
                f"{self._at(unknown[0])}: unknown field; allowed: {', '.join(sorted(allowed))}"
            )

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self.data.get(key, default)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self._at(key)}: must be a non-empty string, got {_show(value)}")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.data.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            raise ConfigError(
                f"{self._at(key)}: must be a number in [{low:g}, {high:g}], got {_show(value)}"
            )
        return float(value)

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise ConfigError(f"{self._at(key)}: must be true or false, got {_show(value)}")
        return value

    def integer(self, key: str, default: int | None, low: int) -> Any:
        value = self.data.get(key, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{self._at(key)}: must be an integer >= {low}, got {_show(value)}")
        return value

    def items(self, key: str, *, required: bool) -> list[_Reader]:
        value = self.data.get(key, [] if not required else None)
        if not isinstance(value, list) or (required and not value):
            wanted = "a non-empty list" if required else "a list"
            raise ConfigError(f"{self._at(key)}: must be {wanted}, got {_show(value)}")
        return [_Reader(item, f"{self._at(key)}[{i}]") for i, item in enumerate(value)]

    def redactions(self, key: str) -> tuple[tuple[str, Redaction], ...]:
        value = self.data.get(key, {})
        shape = f"an object of field name to {' or '.join(REDACTIONS)}"
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self._at(key)}: must be {shape}, got {_show(value)}")
        for name, how in value.items():
            if not name or how not in REDACTIONS:
                raise ConfigError(
                    f"{self._at(key)}.{name}: must be one of {', '.join(REDACTIONS)},"
                    f" got {_show(how)}"
                )
        return tuple(sorted(value.items()))

    def base_url(self, key: str) -> str | None:
        url = self.text(key)
        if url is not None and (not url.startswith(("http://", "https://")) or url.endswith("/")):
            raise ConfigError(
                f"{self._at(key)}: must be http(s)://host:port without a trailing slash,"
                f" got {url!r}"
            )
        return url  # type: ignore[no-any-return]

    def child(self, key: str) -> _Reader | None:
        value = self.data.get(key)
        return None if value is None else _Reader(value, self._at(key))

    def endpoint(self, extra: set[str]) -> Endpoint:
        self.only({"name", "url", "model_name", "version"} | extra)
        url = self.text("url", required=True)
        if not url.startswith(("http://", "https://")) or url.endswith("/"):
            raise ConfigError(
                f"{self._at('url')}: must be http(s)://host:port without a trailing slash,"
                f" got {url!r}"
            )
        version = self.data.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            version = str(version)
        if version is not None and not (isinstance(version, str) and version.isdigit()):
            raise ConfigError(
                f"{self._at('version')}: must be a version number, got {_show(version)}"
            )
        return Endpoint(
            name=self.text("name", required=True),
            url=url,
            model_name=self.text("model_name"),
            version=version,
        )

    def route(self) -> Route:
        self.only(
            {
                "model",
                "variants",
                "shadows",
                "sticky",
                "fallback",
                "capture_rate",
                "capture_redact",
                "capture_retention_seconds",
                "confidence_rate",
                "client_request_ids",
            }
        )
        model = self.text("model", required=True)
        variants = tuple(
            Variant(endpoint=item.endpoint({"weight"}), weight=item.number("weight", 0.0, 0, 1))
            for item in self.items("variants", required=True)
        )
        if sum(v.weight for v in variants) <= 0:
            raise ConfigError(f"{self._at('variants')}: weights must not all be 0")
        shadows = tuple(
            Shadow(
                endpoint=item.endpoint({"fraction"}), fraction=item.number("fraction", 1.0, 0, 1)
            )
            for item in self.items("shadows", required=False)
        )
        names = [v.endpoint.name for v in variants] + [s.endpoint.name for s in shadows]
        fallback_reader = self.child("fallback")
        fallback = None if fallback_reader is None else fallback_reader.endpoint(set())
        if fallback is not None and fallback not in [v.endpoint for v in variants]:
            names.append(fallback.name)
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise ConfigError(f"{self.path}: endpoint name {duplicate!r} is used more than once")
        sticky_reader = self.child("sticky")
        sticky = None
        if sticky_reader is not None:
            sticky_reader.only({"source", "name"})
            source = sticky_reader.text("source", required=True)
            if source not in STICKY_SOURCES:
                raise ConfigError(
                    f"{sticky_reader._at('source')}: must be one of"
                    f" {', '.join(STICKY_SOURCES)}, got {source!r}"
                )
            sticky = StickyKey(source=source, name=sticky_reader.text("name", required=True))
        return Route(
            model=model,
            variants=variants,
            shadows=shadows,
            sticky=sticky,
            fallback=fallback,
            capture_rate=self.number("capture_rate", _ROUTE_DEFAULTS["capture_rate"], 0, 1),
            capture_redact=self.redactions("capture_redact"),
            capture_retention_seconds=self.number(
                "capture_retention_seconds",
                _ROUTE_DEFAULTS["capture_retention_seconds"],
                _MIN_RETENTION_SECONDS,
                math.inf,
            ),
            confidence_rate=self.number(
                "confidence_rate", _ROUTE_DEFAULTS["confidence_rate"], 0, 1
            ),
            client_request_ids=self.flag("client_request_ids"),
        )

    def gateway(self) -> GatewayConfig:
        self.only(_GATEWAY_KEYS)
        routes = tuple(item.route() for item in self.items("routes", required=True))
        models = [r.model for r in routes]
        duplicate = next((m for m in models if models.count(m) > 1), None)
        if duplicate is not None:
            raise ConfigError(f"routes: model {duplicate!r} has more than one route")
        breaker_reader = self.child("breaker")
        breaker = BreakerConfig()
        if breaker_reader is not None:
            breaker_reader.only({"failure_threshold", "open_seconds"})
            breaker = BreakerConfig(
                failure_threshold=breaker_reader.integer(
                    "failure_threshold", _BREAKER_DEFAULTS["failure_threshold"], 1
                ),
                open_seconds=breaker_reader.number(
                    "open_seconds", _BREAKER_DEFAULTS["open_seconds"], 0.001, 86_400
                ),
            )
        if "admin_token_env" in self.data and "admin_token_file" in self.data:
            raise ConfigError("admin_token_env, admin_token_file: give one token source, not both")
        d = _GATEWAY_DEFAULTS
        return GatewayConfig(
            routes=routes,
            breaker=breaker,
            max_body_bytes=self.integer("max_body_bytes", d["max_body_bytes"], 1),
            upstream_timeout_seconds=self.number(
                "upstream_timeout_seconds", d["upstream_timeout_seconds"], 0.001, 3600
            ),
            upstream_connections=self.integer("upstream_connections", d["upstream_connections"], 1),
            shadow_timeout_seconds=self.number(
                "shadow_timeout_seconds", d["shadow_timeout_seconds"], 0.001, 3600
            ),
            shadow_max_in_flight=self.integer("shadow_max_in_flight", d["shadow_max_in_flight"], 0),
            capture_queue_size=self.integer("capture_queue_size", d["capture_queue_size"], 1),
            feedback_window=self.integer("feedback_window", d["feedback_window"], 1),
            admin_token_env=self.text("admin_token_env"),
            admin_token_file=self.text("admin_token_file"),
            seed=self.integer("seed", None, 0),
            explainer_url=self.base_url("explainer_url"),
        )


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
