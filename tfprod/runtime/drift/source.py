"""Where a deployment's reference profile is read from: its Policy's `drift.reference_uri`.

- `<registry URI>/models/<name>/versions/<version or alias>`: the profile stored with that
  version at registration (`Registry.register(..., reference_data=...)`);
- any other URI ending in `.json`: a profile document (`ReferenceProfile.to_json`) stored as
  one object of a store, e.g. `s3://bucket/profiles/fraud.json`, or as a plain file for
  `file://`, e.g. `file:///data/profile.json`. A `DriftDetector` given data names its profile
  ConfigMap mounted under `POLICY_MOUNT_DIR` (`mounted_profile_uri`); a process told where
  the policies are mounted (`mounted`, the gateway's `--policies`) reads that file there, so
  a local platform's policies directory serves the same URI.
"""

from __future__ import annotations

import json
from pathlib import Path

from tfprod.policy import POLICY_MOUNT_DIR
from tfprod.runtime.registry import ReferenceProfile, Registry
from tfprod.runtime.registry.uri import open_store


class ProfileSourceError(ValueError):
    """The reference URI names no profile that can be read."""


def load_profile(uri: str, *, mounted: Path | None = None) -> ReferenceProfile:
    """The reference profile `uri` names (see the module docstring); a `file://` URI under
    `POLICY_MOUNT_DIR` is read under `mounted` instead when given."""
    root, marker, rest = uri.rpartition("/models/")
    name, versions, ref = rest.partition("/versions/")
    if marker and versions and name and ref and "/" not in ref.strip("/"):
        return Registry.open(root).reference_profile(name, ref.strip("/"))
    if not uri.endswith(".json"):
        raise ProfileSourceError(
            f"reference_uri {uri!r} is neither a registry version"
            " (<registry>/models/<name>/versions/<version>) nor a profile document (*.json)"
        )
    folder, _, key = uri.rpartition("/")
    try:
        if uri.startswith("file://"):  # a plain file on this machine (or a mounted volume)
            path = Path(uri.removeprefix("file://"))
            if mounted is not None and path.is_relative_to(POLICY_MOUNT_DIR):
                path = mounted / path.relative_to(POLICY_MOUNT_DIR)
            data = path.read_bytes()
        else:
            data = open_store(folder).get(key).data
        document = json.loads(data)
    except OSError as error:
        raise ProfileSourceError(f"reference_uri {uri!r}: {error.strerror}") from None
    except ValueError as error:
        raise ProfileSourceError(f"reference_uri {uri!r} is not a profile: {error}") from None
    return ReferenceProfile.from_json(document)
