"""Where a deployment's reference profile is read from: its Policy's `drift.reference_uri`.

- `<registry URI>/models/<name>/versions/<version or alias>`: the profile stored with that
  version at registration (`Registry.register(..., reference_data=...)`);
- any other URI ending in `.json`: a profile document (`ReferenceProfile.to_json`) stored as
  one object of a store, e.g. `s3://bucket/profiles/fraud.json`, or as a plain file for
  `file://`, e.g. `file:///data/profile.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

from tfprod.runtime.registry import ReferenceProfile, Registry
from tfprod.runtime.registry.uri import open_store


class ProfileSourceError(ValueError):
    """The reference URI names no profile that can be read."""


def load_profile(uri: str) -> ReferenceProfile:
    """The reference profile `uri` names (see the module docstring)."""
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
            data = Path(uri.removeprefix("file://")).read_bytes()
        else:
            data = open_store(folder).get(key).data
        document = json.loads(data)
    except OSError as error:
        raise ProfileSourceError(f"reference_uri {uri!r}: {error.strerror}") from None
    except ValueError as error:
        raise ProfileSourceError(f"reference_uri {uri!r} is not a profile: {error}") from None
    return ReferenceProfile.from_json(document)
