"""What a model server serves: models, version policies, labels, ports and limits.

Mirrors `tensorflow_model_server`: either one model from `--model_name`/`--model_base_path`, or
several from a `--model_config_file` holding a text-format `ModelServerConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tfprod.runtime.serving.faults import FaultPlan, is_loopback

DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024


class ServingConfigError(ValueError):
    """The server configuration cannot be served; the message names the field and the value."""


@dataclass(frozen=True, kw_only=True)
class VersionPolicy:
    """Which versions under a model's base path are loaded.

    Exactly one of the three modes, as in TF Serving's `ServableVersionPolicy`."""

    latest: int | None = 1
    """Serve the N highest versions (TF Serving's default is the single latest one).
    None when `specific` or `all_versions` is used."""
    specific: tuple[int, ...] = ()
    """Serve exactly these versions; empty means the `latest` or `all_versions` mode."""
    all_versions: bool = False
    """Serve every numeric version directory. Default False."""


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    name: str
    base_path: Path
    """Directory holding numeric version subdirectories (`1/`, `2/`), each a SavedModel."""
    version_policy: VersionPolicy = field(default_factory=VersionPolicy)
    """Default: the latest version only."""
    version_labels: tuple[tuple[str, int], ...] = ()
    """(label, version) pairs such as ("stable", 1); each must name a served version.
    Default: no labels, so `/labels/...` requests fail as in TF Serving."""


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    models: tuple[ModelConfig, ...]
    host: str = "127.0.0.1"
    """Interface both endpoints bind. Default loopback only."""
    port: int = 8500
    """gRPC port; 0 disables gRPC. Default 8500 as `tensorflow_model_server`."""
    rest_api_port: int = 0
    """REST port; 0 disables REST, as `tensorflow_model_server` does. Default 0."""
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    """Largest accepted REST body or gRPC message; larger ones get 413 / RESOURCE_EXHAUSTED.
    Default 16 MiB."""
    file_system_poll_wait_seconds: float = 1.0
    """Seconds between rescans of the base paths for new or removed versions; 0 or less scans
    only at start-up. Default 1, as `tensorflow_model_server`."""
    faults: FaultPlan | None = None
    """The initial fault plan, which also turns fault injection's endpoints on (see
    `tfprod.runtime.serving.faults`); only allowed on a loopback `host`. Default None: no
    fault injection at all, and no `/metrics` or `/admin/v1/faults`."""

    def __post_init__(self) -> None:
        if not self.models:
            raise ServingConfigError(
                "no model to serve: give --model_name and --model_base_path, or --model_config_file"
            )
        names = [model.name for model in self.models]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ServingConfigError(f"model names must be unique, got {duplicates} twice")
        for flag, value in (("--port", self.port), ("--rest_api_port", self.rest_api_port)):
            if not 0 <= value <= 65535:
                raise ServingConfigError(f"{flag} must be in 0..65535, got {value}")
        if self.port == 0 and self.rest_api_port == 0:
            raise ServingConfigError("both --port and --rest_api_port are 0: nothing to serve")
        if self.max_request_bytes < 1:
            raise ServingConfigError(
                f"--max_request_bytes must be positive, got {self.max_request_bytes}"
            )
        if self.faults is not None and not is_loopback(self.host):
            raise ServingConfigError(
                "fault injection needs a loopback --host (127.0.0.1, ::1 or localhost),"
                f" got {self.host!r}"
            )


def parse_model_config_text(text: str, *, source: str) -> tuple[ModelConfig, ...]:
    """Reads a text-format `ModelServerConfig` (the `--model_config_file` format)."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    message = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as error:
        raise ServingConfigError(
            f"{source}: not a text-format ModelServerConfig: {error}"
        ) from None
    if message.WhichOneof("config") != "model_config_list":
        raise ServingConfigError(f"{source}: expected a model_config_list")
    models = []
    for entry in message.model_config_list.config:
        where = f"{source}: model {entry.name!r}"
        if not entry.name:
            raise ServingConfigError(f"{source}: every config needs a name")
        if not entry.base_path:
            raise ServingConfigError(f"{where}: base_path is empty")
        if entry.model_platform not in ("", "tensorflow"):
            raise ServingConfigError(
                f"{where}: model_platform {entry.model_platform!r} is not supported; "
                "allowed: 'tensorflow'"
            )
        models.append(
            ModelConfig(
                name=entry.name,
                base_path=Path(entry.base_path),
                version_policy=_version_policy(entry.model_version_policy),
                version_labels=tuple(sorted(entry.version_labels.items())),
            )
        )
    return tuple(models)


def _version_policy(policy: object) -> VersionPolicy:
    choice = policy.WhichOneof("policy_choice")  # type: ignore[attr-defined]
    if choice == "specific":
        return VersionPolicy(
            latest=None,
            specific=tuple(policy.specific.versions),  # type: ignore[attr-defined]
        )
    if choice == "all":
        return VersionPolicy(latest=None, all_versions=True)
    if choice == "latest":
        return VersionPolicy(latest=policy.latest.num_versions or 1)  # type: ignore[attr-defined]
    return VersionPolicy()
