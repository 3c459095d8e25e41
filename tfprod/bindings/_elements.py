"""Terraform elements that hold their attributes on the JavaScript side.

cdktn asks each element for its attributes (`synthesizeAttributes`) on every synthesis pass,
twice per `app.synth()`; a Python override answers through a jsii callback, a round trip to
the kernel each time, and the provider's `alias` (read for every resource that names the
provider) costs the same. That was most of the cost of synthesizing a large stack. The
classes here take the attributes (and the alias) once, when they are created, and answer from
JavaScript.

The attributes travel as JSON text, parsed by `JSON.parse` in the kernel, whenever they are
plain JSON (strings, token strings and numbers included): jsii would otherwise serialize each
nested value on the Python side and check it again in the kernel (measured: a stack of 100
deployments synthesized in 2.0 s instead of 2.3 s). Attributes that hold a jsii object (a
token object such as a `TerraformVariable`'s `boolean_value`) go as a map, as jsii passes any
other argument.

They come from a small jsii assembly written here and loaded into the jsii kernel beside the
construct library (`cdktn`, or legacy `cdktf`, whichever `_core` found): three subclasses
of the library's resource, data source and provider, whose JavaScript keeps what it was given.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsii

from tfprod.bindings._core import (
    CORE_NAME,
    Construct,
    TerraformDataSource,
    TerraformProvider,
    TerraformResource,
)

ASSEMBLY = "tfprod-elements"
VERSION = "1.1.0"

_SCRIPT = f"""'use strict';
const core = require('{CORE_NAME}');
const parsed = (given) => (typeof given === 'string' ? JSON.parse(given) : given);
class AttributedResource extends core.TerraformResource {{
  constructor(scope, id, attributes, element, provider, config) {{
    super(scope, id, config || {{
      terraformResourceType: element.resourceType,
      terraformGeneratorMetadata: {{
        providerName: element.providerName,
        providerVersion: element.providerVersion,
      }},
      provider,
    }});
    this._tfprodAttributes = parsed(attributes);
  }}
  synthesizeAttributes() {{ return this._tfprodAttributes; }}
}}
class AttributedDataSource extends core.TerraformDataSource {{
  constructor(scope, id, attributes, element, provider, config) {{
    super(scope, id, config || {{
      terraformResourceType: element.resourceType,
      terraformGeneratorMetadata: {{
        providerName: element.providerName,
        providerVersion: element.providerVersion,
      }},
      provider,
    }});
    this._tfprodAttributes = parsed(attributes);
  }}
  synthesizeAttributes() {{ return this._tfprodAttributes; }}
}}
class AttributedProvider extends core.TerraformProvider {{
  constructor(scope, id, attributes, config, alias) {{
    super(scope, id, config);
    this._tfprodAttributes = parsed(attributes);
    this._tfprodAlias = alias;
  }}
  get alias() {{ return this._tfprodAlias; }}
  set alias(value) {{ this._tfprodAlias = value; }}
  synthesizeAttributes() {{ return this._tfprodAttributes; }}
}}
module.exports = {{ AttributedResource, AttributedDataSource, AttributedProvider }};
"""


def _parameter(name: str, type_: Mapping[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return {"name": name, "type": dict(type_), **({"optional": True} if optional else {})}


_STRING = {"primitive": "string"}
_ATTRIBUTES = {
    "union": {
        "types": [_STRING, {"collection": {"kind": "map", "elementtype": {"primitive": "any"}}}]
    }
}


def _class(name: str, base: str, *parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "assembly": ASSEMBLY,
        "fqn": f"{ASSEMBLY}.{name}",
        "kind": "class",
        "name": name,
        "base": f"{CORE_NAME}.{base}",
        "initializer": {
            "parameters": [
                _parameter("scope", {"fqn": "constructs.Construct"}),
                _parameter("id", _STRING),
                _parameter("attributes", _ATTRIBUTES),
                *parameters,
            ]
        },
    }


def _assembly() -> dict[str, Any]:
    """The `.jsii` manifest: what the kernel checks calls against."""
    element = (
        _parameter("element", {"collection": {"kind": "map", "elementtype": _STRING}}),
        _parameter("provider", {"fqn": f"{CORE_NAME}.TerraformProvider"}, optional=True),
        _parameter("config", {"fqn": f"{CORE_NAME}.TerraformResourceConfig"}, optional=True),
    )
    types = [
        _class("AttributedResource", "TerraformResource", *element),
        _class("AttributedDataSource", "TerraformDataSource", *element),
        _class(
            "AttributedProvider",
            "TerraformProvider",
            _parameter("config", {"fqn": f"{CORE_NAME}.TerraformProviderConfig"}),
            _parameter("alias", _STRING, optional=True),
        ),
    ]
    return {
        "schema": "jsii/0.10.0",
        "name": ASSEMBLY,
        "version": VERSION,
        "description": "tfprod's Terraform elements that keep their attributes in JavaScript",
        "license": "Apache-2.0",
        "homepage": "https://github.com/tfprod/tfprod",
        "repository": {"type": "git", "url": "https://github.com/tfprod/tfprod.git"},
        "author": {"name": "tfprod", "roles": ["author"]},
        "fingerprint": f"{ASSEMBLY}-{VERSION}-{CORE_NAME}",
        "jsiiVersion": "1.0.0",
        "dependencies": {CORE_NAME: "*", "constructs": "*"},
        "types": {type_["fqn"]: type_ for type_ in types},
    }


def _tarball() -> bytes:
    """The npm package the kernel loads, byte for byte the same on every run: the kernel
    keeps one unpacked copy per distinct tarball in its package cache."""
    files = {
        "package.json": json.dumps({"name": ASSEMBLY, "version": VERSION, "main": "index.js"}),
        ".jsii": json.dumps(_assembly()),
        "index.js": _SCRIPT,
    }
    packed = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.USTAR_FORMAT) as archive,
    ):
        for name, text in files.items():
            data = text.encode("utf-8")
            member = tarfile.TarInfo(f"package/{name}")  # mtime 0, owner root
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return packed.getvalue()


def _load() -> None:
    with tempfile.TemporaryDirectory(prefix="tfprod-elements-") as directory:
        tarball = Path(directory) / f"{ASSEMBLY}@{VERSION}.jsii.tgz"
        tarball.write_bytes(_tarball())
        jsii.load(ASSEMBLY, VERSION, str(tarball))  # the kernel unpacks it before returning


_load()


def _wire(attributes: Mapping[str, Any]) -> str | Mapping[str, Any]:
    """`attributes` as JSON text when they are plain JSON, else as they are (see the module
    docstring)."""
    try:
        return json.dumps(attributes, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return attributes


def element_type(
    resource_type: str, provider_name: str, provider_version: str | None
) -> dict[str, str]:
    """What an element's JavaScript constructor builds cdktn's config from, besides
    `provider`."""
    element = {"resourceType": resource_type, "providerName": provider_name}
    return element if provider_version is None else {**element, "providerVersion": provider_version}


class AttributedResource(
    TerraformResource, metaclass=jsii.JSIIMeta, jsii_type=f"{ASSEMBLY}.AttributedResource"
):
    """A `TerraformResource` whose attributes are given once, at creation. `config` (cdktn's
    `TerraformResourceConfig`) is needed only for meta-arguments besides `provider`; when it
    is None the JavaScript side builds it from `element` (see `element_type`) and
    `provider`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        attributes: Mapping[str, Any],
        *,
        element: Mapping[str, str],
        provider: TerraformProvider | None,
        config: Any,
    ) -> None:
        jsii.create(self.__class__, self, [scope, id, _wire(attributes), element, provider, config])


class AttributedDataSource(
    TerraformDataSource, metaclass=jsii.JSIIMeta, jsii_type=f"{ASSEMBLY}.AttributedDataSource"
):
    """A `TerraformDataSource` whose attributes are given once, at creation (`config` as for
    `AttributedResource`)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        attributes: Mapping[str, Any],
        *,
        element: Mapping[str, str],
        provider: TerraformProvider | None,
        config: Any,
    ) -> None:
        jsii.create(self.__class__, self, [scope, id, _wire(attributes), element, provider, config])


class AttributedProvider(
    TerraformProvider, metaclass=jsii.JSIIMeta, jsii_type=f"{ASSEMBLY}.AttributedProvider"
):
    """A `TerraformProvider` whose attributes and alias are given at creation; `alias` reads
    and sets the JavaScript side's."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        attributes: Mapping[str, Any],
        *,
        config: Any,
        alias: str | None,
    ) -> None:
        jsii.create(self.__class__, self, [scope, id, _wire(attributes), config, alias])


__all__ = ["AttributedDataSource", "AttributedProvider", "AttributedResource", "element_type"]
