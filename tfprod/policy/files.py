"""Where a Policy is shipped, and reading and writing it.

Constructs write each deployment's policy twice: into a ConfigMap (`configmap_name`, key
`CONFIGMAP_KEY`) that the cluster's gateway and controller mount, and as a file
(`policy_file_name`) next to the synthesized stack in `cdktf.out`, which local runs read.
Both hold the same text, `policy_json(policy)`. Each deployment's endpoints (version id ->
REST base URL) travel the same way, as `endpoints_json(mapping)`, read back by `read_endpoints`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tfprod.policy.errors import PolicyError

if TYPE_CHECKING:  # loaded by `read_policy`: a reader of names and paths needs no pydantic
    from tfprod.policy.document import Policy

CONFIGMAP_KEY = "policy.json"
ENDPOINTS_KEY = "endpoints.json"
"""Key of the endpoints ConfigMap: JSON mapping each version id to its REST base URL."""
POLICY_MOUNT_DIR = "/etc/tfprod/policies"
"""Where the gateway and controller find `<deployment>/policy.json` and `endpoints.json`."""
PROFILE_KEY = "profile.json"
"""Key of a deployment's reference profile ConfigMap (`profile_configmap_name`), mounted next
to its policy: `POLICY_MOUNT_DIR/<deployment>/profile.json`."""
PROFILE_CONFIGMAP_LIMIT = 1_000_000
"""The most bytes of profile JSON a profile ConfigMap takes: Kubernetes stores at most 1 MiB
per ConfigMap, and this leaves room for the object's metadata."""
POLICY_FILE_SUFFIX = ".policy.json"
"""What `policy_file_name` appends to a deployment's name; readers of `cdktf.out` glob for it."""


def configmap_name(deployment: str) -> str:
    """Name of the ConfigMap holding the policy of `deployment`."""
    return f"{deployment}-policy"


def endpoints_configmap_name(deployment: str) -> str:
    """Name of the ConfigMap mapping each version of `deployment` to its serving URL."""
    return f"{deployment}-endpoints"


def status_configmap_name(deployment: str) -> str:
    """Name of the controller-owned ConfigMap with live weights and rollout state; Terraform
    never declares it, so re-applying a stack never resets what the controller changed."""
    return f"{deployment}-status"


def profile_configmap_name(deployment: str) -> str:
    """Name of the ConfigMap holding the reference profile a `DriftDetector` computed at
    synth from the data it was given."""
    return f"{deployment}-profile"


def mounted_profile_uri(deployment: str) -> str:
    """The `drift.reference_uri` of a profile shipped in `profile_configmap_name(deployment)`:
    where the gateway finds it mounted (a local platform lays the same file out under its own
    policies directory)."""
    return f"file://{POLICY_MOUNT_DIR}/{deployment}/{PROFILE_KEY}"


def policy_file_name(deployment: str) -> str:
    """File name of the policy of `deployment` inside a stack's directory in `cdktf.out`."""
    return f"{deployment}{POLICY_FILE_SUFFIX}"


def policy_json(policy: Policy) -> str:
    """The policy as written to files and ConfigMaps: two-space indent, final newline."""
    return policy.model_dump_json(indent=2) + "\n"


def read_policy(path: Path) -> Policy:
    """Read and validate a policy file.

    Raises PolicyError (one line) when the file cannot be read or is not JSON, and pydantic's
    ValidationError, one entry per problem with its field path, when the document is invalid.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyError(f"cannot read {path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path} is not JSON: {error}") from None
    from tfprod.policy.document import Policy

    return Policy.model_validate(document)


def endpoints_json(endpoints: Mapping[str, str]) -> str:
    """The endpoints (version id -> REST base URL) as written to files and ConfigMaps: in the
    mapping's order, two-space indent, final newline."""
    return json.dumps(dict(endpoints), indent=2) + "\n"


def read_endpoints(path: Path) -> dict[str, str]:
    """Read an endpoints file; PolicyError (one line, naming the file) when it cannot be read,
    is not JSON, or is not an object of version id -> URL strings."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise PolicyError(f"{path} is not JSON: {error}") from None
    return parse_endpoints(text, where=str(path))


def parse_endpoints(text: str, *, where: str) -> dict[str, str]:
    """The endpoints `text` holds (as `endpoints_json` writes them); PolicyError naming `where`
    when it is not JSON or not an object of version id -> URL strings."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyError(f"{where} is not JSON: {error}") from None
    if not isinstance(document, dict) or not all(
        isinstance(key, str) and isinstance(url, str) for key, url in document.items()
    ):
        raise PolicyError(f'{where}: must be {{"<version id>": "http://host:port", ...}}')
    return document
