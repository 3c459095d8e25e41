"""Front end: the schema of a prebuilt CDK Terrain provider package, read from its jsii tarball.

No terraform binary can be had here, so tfprod's snapshots come from the packages themselves:
`<site-packages>/cdktn_provider_X/_jsii/provider-X@V.jsii.tgz` holds the jsii assembly
(`package/.jsii`, JSON) and the compiled JavaScript (`package/lib/<dir>/...`). The package is
found with `importlib.util.find_spec`, never imported (importing it would start Node.js).

What comes from where:

- The jsii assembly: which class is which Terraform type and in which `lib/<dir>` it lives (the
  class's `{@link URL type}` summary, checked against `static tfResourceType` in the JS), and the
  descriptions (docs of the `...Config` and struct properties, minus the generator's own
  "Docs at Terraform Registry" / "id field" / "<name> block" boilerplate; jsii splits a doc at
  its first sentence, the two halves are re-joined with one space).
- The JavaScript, per struct: `fooToHclTerraform(struct)` (and the class's
  `synthesizeHclAttributes()`) lists every configurable field with its exact Terraform name,
  `isBlock`, `type` (`simple`, `list`, `set`, `map`, `struct`) and `storageClassType`
  (`string`, `numberList`, `stringMap`, or a struct class); `cdktn.listMapperHcl(child, true)`
  is a repeated block, a direct `child(...)` call a block serialized as one object. The getters
  of the resource class and of each `FooOutputReference` carry the generator's comment
  `// name - computed: C, optional: O, required: R`, and computed-only attributes exist only
  there (typed by their getter: `getStringAttribute`, `cdktn.Fn.tolist(getListAttribute)` for
  a set, `new FooList(this, "name", wrapsSet)` for a list or set of objects, ...).
- The provider class's registry link: the source address and version, checked against the
  JS (`terraformProviderSource`, and `terraformGeneratorMetadata.providerVersion` of every
  class read).

Recoverable exactly: names, attribute vs block, primitive and collection types (list vs set
included), required/optional/computed, write-only (`this.markWriteOnlyAttribute(...)`), block
nesting list vs set vs single, and max_items=1 for blocks the generator turned into one struct
(it does so exactly when the schema says max_items=1). Approximated: min_items is 1 for a
required block and 0 otherwise (the real lower bound may be higher); a `single` and a `group`
block both read as `single`; protocol 6 nested-attribute types read as object-typed
attributes; `dynamic` and `map(any)` both read as `map(dynamic)` (the generator maps both to
`anyMap`); descriptions may differ in whitespace and lose their markdown kind. Not
recoverable: `sensitive` and `deprecated` (the generated code records neither), max_items other
than 1, schema versions (read as 0), and descriptions of computed-only attributes. The
provider's `alias` field is a cdktn meta-argument, not part of the provider schema, and is
left out.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfprod.bindings.generator import ir
from tfprod.bindings.generator.schema_json import SchemaError, did_you_mean

_BASES = {
    "cdktn.TerraformProvider": "provider",
    "cdktn.TerraformResource": "resource",
    "cdktn.TerraformDataSource": "data",
}
_LINK = re.compile(r"\{@link \S+ ([\w-]+)\}")
_PROVIDER_URL = re.compile(r"registry\.terraform\.io/providers/([\w-]+/[\w-]+)/([^/]+)/docs")
_PROVIDER_SOURCE = re.compile(r"terraformProviderSource: ['\"]([^'\"]+)['\"]")
_DOCS_AT = re.compile(r"\s*Docs at Terraform Registry: \{@link [^}]*\}\.?\s*")
_ID_BOILERPLATE = re.compile(
    r"\s*Please be aware that the id field is automatically added to all resources.*", re.S
)
_FUNCTION = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{\n(.*?)^\}", re.M | re.S)
_CLASS = re.compile(r"^class (\w+) extends [\w.]+ \{\n(.*?)^\}", re.M | re.S)
_SYNTH = re.compile(r"^    synthesizeHclAttributes\(\) \{\n(.*?)^    \}", re.M | re.S)
_ENTRY = re.compile(
    r'^ +"?(?P<name>[\w-]+)"?: \{\n +value: (?P<value>.+),\n +isBlock: (?P<block>true|false),\n'
    r' +type: "(?P<kind>\w+)",\n +storageClassType: "(?P<storage>\w+)",\n +\},?$',
    re.M,
)
_MEMBER = re.compile(
    r"^    // (?P<name>[\w-]+) - computed: (?P<c>true|false), optional: (?P<o>true|false), "
    r"required: (?P<r>true|false)\n(?P<body>(?:(?!    //).*\n)*)",
    re.M,
)
_CHILD = re.compile(r"(?<!cdktn\.)\b([a-z]\w*?)ToHclTerraform\b")
_PROP = re.compile(r"(?:struct\.|this\._)(\w+)")
_TF_TYPE = re.compile(r'static tfResourceType = "([\w-]+)";')
_VERSION = re.compile(r"providerVersion: '([^']+)'")
_SOURCE = re.compile(r"terraformProviderSource: '([^']+)'")
# The generator's `type` of a field: for blocks, how they nest; for attributes, the collection.
_BLOCK_NESTING = {
    "struct": ir.Nesting.SINGLE,
    "list": ir.Nesting.LIST,
    "set": ir.Nesting.SET,
    "map": ir.Nesting.MAP,
}
_COLLECTIONS = {
    "list": ir.CollectionKind.LIST,
    "set": ir.CollectionKind.SET,
    "map": ir.CollectionKind.MAP,
}
_PRIMITIVES = {
    "string": ir.Primitive.STRING,
    "number": ir.Primitive.NUMBER,
    "boolean": ir.Primitive.BOOL,
    "any": ir.Primitive.DYNAMIC,
}
_GETTERS: dict[str, ir.TypeExpr] = {
    "getStringAttribute": ir.Primitive.STRING,
    "getNumberAttribute": ir.Primitive.NUMBER,
    "getBooleanAttribute": ir.Primitive.BOOL,
    "interpolationForAttribute": ir.Primitive.DYNAMIC,
    "getListAttribute": ir.Collection(kind=ir.CollectionKind.LIST, element=ir.Primitive.STRING),
    "getNumberListAttribute": ir.Collection(
        kind=ir.CollectionKind.LIST, element=ir.Primitive.NUMBER
    ),
    "getStringMapAttribute": ir.Collection(kind=ir.CollectionKind.MAP, element=ir.Primitive.STRING),
    "getNumberMapAttribute": ir.Collection(kind=ir.CollectionKind.MAP, element=ir.Primitive.NUMBER),
    "getBooleanMapAttribute": ir.Collection(kind=ir.CollectionKind.MAP, element=ir.Primitive.BOOL),
    "getAnyMapAttribute": ir.Collection(kind=ir.CollectionKind.MAP, element=ir.Primitive.DYNAMIC),
}
_GETTER = re.compile(r"this\.(" + "|".join(_GETTERS) + r")\(")
_CORE_COMPLEX = re.compile(r'new cdktn\.(\w+)\(this, "[\w-]+"(?:, (true|false))?\)')
_COMPLEX = re.compile(
    r'new (?:\w+\.)?(\w+?)(List|Map|OutputReference)\(this, "[\w-]+"(?:, (true|false))?\)'
)


@dataclass(frozen=True, kw_only=True)
class PrebuiltPackage:
    """An installed prebuilt provider package: its distribution pin and its jsii tarball."""

    distribution: str
    version: str
    tarball: Path

    @property
    def pin(self) -> str:
        return f"{self.distribution}=={self.version}"


def locate_package(name: str) -> PrebuiltPackage:
    """Finds an installed prebuilt package by distribution (`cdktn-provider-kubernetes`) or
    module (`cdktn_provider_kubernetes`) name, without importing it."""
    module = name.replace("-", "_")
    distribution = module.replace("_", "-")
    if not module.startswith("cdktn_provider_"):
        raise SchemaError(
            f"package {name!r} is not a prebuilt CDK Terrain provider (cdktn-provider-NAME)"
        )
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError(f"package {distribution} is not installed (pip install {distribution})")
    tarballs = sorted(
        path
        for location in spec.submodule_search_locations
        for path in (Path(location) / "_jsii").glob("*.jsii.tgz")
    )
    if len(tarballs) != 1:
        raise SchemaError(
            f"package {distribution}: expected one _jsii/*.jsii.tgz, found {len(tarballs)}"
        )
    version = importlib.metadata.version(distribution)
    return PrebuiltPackage(distribution=distribution, version=version, tarball=tarballs[0])


@dataclass(frozen=True, kw_only=True)
class _Entry:
    """One configurable field of a struct, from its `...ToHclTerraform` function."""

    name: str
    value: str
    is_block: bool
    kind: str
    storage: str


@dataclass(frozen=True, kw_only=True)
class _Member:
    """One getter of a class, with the generator's computed/optional/required comment."""

    name: str
    computed: bool
    optional: bool
    required: bool
    body: str


@dataclass(frozen=True, kw_only=True)
class _Type:
    """A provider, resource or data source class found in the assembly."""

    kind: str
    tf_type: str
    class_name: str
    fqn_prefix: str
    directory: str


def _entries(body: str) -> tuple[_Entry, ...]:
    return tuple(
        _Entry(
            name=m["name"],
            value=m["value"],
            is_block=m["block"] == "true",
            kind=m["kind"],
            storage=m["storage"],
        )
        for m in _ENTRY.finditer(body)
    )


def _members(body: str) -> dict[str, _Member]:
    return {
        m["name"]: _Member(
            name=m["name"],
            computed=m["c"] == "true",
            optional=m["o"] == "true",
            required=m["r"] == "true",
            body=m["body"],
        )
        for m in _MEMBER.finditer(body)
    }


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _upper_first(name: str) -> str:
    return name[:1].upper() + name[1:]


class _Module:
    """The JavaScript of one `lib/<dir>` (class and struct files together) and the jsii
    types of the same submodule."""

    def __init__(self, sources: Iterable[str], types: Mapping[str, Any], fqn_prefix: str) -> None:
        text = "\n".join(sources)
        self._functions = {m[1]: m[2] for m in _FUNCTION.finditer(text)}
        self._classes = {m[1]: m[2] for m in _CLASS.finditer(text)}
        self._types = types
        self._fqn_prefix = fqn_prefix

    def class_body(self, name: str) -> str:
        try:
            return self._classes[name]
        except KeyError:
            raise SchemaError(f"class {name} not found in the package's JavaScript") from None

    def _props(self, struct: str) -> dict[str, tuple[str, bool]]:
        """The jsii struct's properties: name -> (description, optional)."""
        jsii_type = self._types.get(f"{self._fqn_prefix}.{struct}")
        if jsii_type is None:
            raise SchemaError(f"struct {struct} not found in the jsii assembly")
        props = {}
        for prop in jsii_type.get("properties", ()):
            doc = prop.get("docs", {})
            text = " ".join(filter(None, (doc.get("summary", ""), doc.get("remarks", ""))))
            description = _ID_BOILERPLATE.sub("", _DOCS_AT.sub(" ", text)).strip()
            props[prop["name"]] = (description, bool(prop.get("optional", False)))
        return props

    def block(
        self, *, struct: str, entries: tuple[_Entry, ...], members: dict[str, _Member]
    ) -> ir.Block:
        """The block whose configurable fields are `entries` and whose getters are `members`."""
        props = self._props(struct)
        attributes: list[ir.Attribute] = []
        block_types: list[ir.BlockType] = []
        configurable = set()
        for entry in entries:
            configurable.add(entry.name)
            prop = _PROP.search(entry.value)
            if prop is None or prop[1] not in props:
                raise SchemaError(f"{struct}.{entry.name}: no jsii property for {entry.value!r}")
            description, optional = props[prop[1]]
            # Structs without an output reference (a provider's blocks) have no getter
            # comments; their jsii `optional` still tells required from optional.
            member = members.get(entry.name) or _Member(
                name=entry.name, computed=False, optional=optional, required=not optional, body=""
            )
            if description in (f"{entry.name} block", f"{entry.name} block."):
                description = ""
            if entry.is_block:
                block_types.append(self._block_type(entry, member, description))
            else:
                attributes.append(
                    ir.Attribute(
                        name=entry.name,
                        type=self._entry_type(entry),
                        required=member.required,
                        optional=member.optional,
                        computed=member.computed,
                        description=description,
                        write_only="markWriteOnlyAttribute(" in entry.value,
                    )
                )
        for member in members.values():
            if member.name not in configurable:
                attributes.append(
                    ir.Attribute(name=member.name, type=self._getter_type(member), computed=True)
                )
        return ir.Block(
            attributes=tuple(sorted(attributes, key=lambda a: a.name)),
            block_types=tuple(sorted(block_types, key=lambda b: b.name)),
        )

    def _child(self, entry: _Entry) -> str:
        match = _CHILD.search(entry.value)
        if match is None:
            raise SchemaError(f"{entry.name}: cannot find the struct of {entry.value!r}")
        return _upper_first(match[1])

    def struct_block(self, struct: str) -> ir.Block:
        try:
            function = self._functions[_lower_first(struct)]
        except KeyError:
            raise SchemaError(f"function {_lower_first(struct)}ToHclTerraform not found") from None
        members = _members(self._classes.get(f"{struct}OutputReference", ""))
        return self.block(struct=struct, entries=_entries(function), members=members)

    def _block_type(self, entry: _Entry, member: _Member, description: str) -> ir.BlockType:
        struct = self._child(entry)
        nested = self.struct_block(struct)
        block = ir.Block(
            attributes=nested.attributes, block_types=nested.block_types, description=description
        )
        repeated = "listMapperHcl(" in entry.value or "hashMapperHcl(" in entry.value
        nesting = _BLOCK_NESTING.get(entry.kind)
        if nesting is None:
            raise SchemaError(f"{entry.name}: unknown block kind {entry.kind!r}")
        single_struct = nesting in (ir.Nesting.LIST, ir.Nesting.SET) and not repeated
        return ir.BlockType(
            name=entry.name,
            nesting=nesting,
            block=block,
            min_items=1 if member.required else 0,
            max_items=1 if single_struct else None,
        )

    def _entry_type(self, entry: _Entry) -> ir.TypeExpr:
        """The type of a configurable attribute from its `type` and `storageClassType`."""
        if entry.storage[:1].isupper():
            element: ir.TypeExpr = self._object_type(self._child(entry))
            if entry.kind == "struct":
                return element
        else:
            stored = _storage_type(entry.storage, entry.name)
            if entry.kind == "simple":
                return stored
            if not isinstance(stored, ir.Collection):
                raise SchemaError(f"{entry.name}: {entry.kind} of {entry.storage!r}")
            element = stored.element
        if entry.kind not in _COLLECTIONS:
            raise SchemaError(f"{entry.name}: unknown attribute kind {entry.kind!r}")
        return ir.Collection(kind=_COLLECTIONS[entry.kind], element=element)

    def _object_type(self, struct: str) -> ir.ObjectType:
        block = self.struct_block(struct)
        return ir.ObjectType(
            attributes=tuple((a.name, a.type or ir.Primitive.DYNAMIC) for a in block.attributes)
        )

    def _computed_object(self, struct: str) -> ir.ObjectType:
        members = _members(self.class_body(f"{struct}OutputReference"))
        return ir.ObjectType(
            attributes=tuple(sorted((m.name, self._getter_type(m)) for m in members.values()))
        )

    def _getter_type(self, member: _Member) -> ir.TypeExpr:
        core = _CORE_COMPLEX.search(member.body)
        if core is not None:
            return _as_set(_storage_type(_lower_first(core[1]), member.name), core[2] == "true")
        complex_ = _COMPLEX.search(member.body)
        if complex_ is not None:
            element = self._computed_object(complex_[1])
            if complex_[2] == "OutputReference":
                return element
            if complex_[2] == "Map":
                return ir.Collection(kind=ir.CollectionKind.MAP, element=element)
            kind = ir.CollectionKind.SET if complex_[3] == "true" else ir.CollectionKind.LIST
            return ir.Collection(kind=kind, element=element)
        getter = _GETTER.search(member.body)
        if getter is None:
            raise SchemaError(f"{member.name}: cannot tell the type of its getter")
        return _as_set(_GETTERS[getter[1]], "Fn.tolist(" in member.body)


def _as_set(expr: ir.TypeExpr, wraps_set: bool) -> ir.TypeExpr:
    """`expr` with its outer list made a set when the generator marked it as wrapping one."""
    if wraps_set and isinstance(expr, ir.Collection) and expr.kind is ir.CollectionKind.LIST:
        return ir.Collection(kind=ir.CollectionKind.SET, element=expr.element)
    return expr


def _source_address(source: str) -> str:
    """Terraform's full source address: `azurerm` -> `registry.terraform.io/hashicorp/azurerm`."""
    parts = source.split("/")
    if len(parts) == 1:
        parts = ["hashicorp", *parts]
    return "/".join(["registry.terraform.io", *parts] if len(parts) == 2 else parts)


def _storage_type(storage: str, field: str) -> ir.TypeExpr:
    """`stringList` -> list(string), `numberMap` -> map(number), `stringListList` -> ..."""
    for suffix, kind in (("List", ir.CollectionKind.LIST), ("Map", ir.CollectionKind.MAP)):
        if storage.endswith(suffix):
            inner = _storage_type(storage[: -len(suffix)], field)
            return ir.Collection(kind=kind, element=inner)
    try:
        return _PRIMITIVES[storage]
    except KeyError:
        raise SchemaError(f"{field}: unknown storage class {storage!r}") from None


class PrebuiltProvider:
    """The assembly of one prebuilt package, parsed once; `schema()` reads types from it."""

    def __init__(self, package: PrebuiltPackage) -> None:
        self.package = package
        with tarfile.open(package.tarball) as archive:
            member = archive.extractfile("package/.jsii")
            if member is None:
                raise SchemaError(f"{package.tarball}: no package/.jsii")
            assembly = json.load(member)
        self._types: dict[str, Any] = assembly["types"]
        self._classes: dict[tuple[str, str], _Type] = {}
        for fqn, jsii_type in self._types.items():
            kind = _BASES.get(jsii_type.get("base", ""))
            link = _LINK.search(jsii_type.get("docs", {}).get("summary", ""))
            if kind is not None and link is not None:
                self._classes[kind, link[1]] = _Type(
                    kind=kind,
                    tf_type=link[1],
                    class_name=jsii_type["name"],
                    fqn_prefix=fqn.rsplit(".", 1)[0],
                    directory=jsii_type["locationInModule"]["filename"].split("/")[1],
                )
        providers = [t for (kind, _), t in self._classes.items() if kind == "provider"]
        if len(providers) != 1:
            raise SchemaError(f"{package.pin}: expected one provider class, got {len(providers)}")
        self._provider = providers[0]
        url = _PROVIDER_URL.search(
            self._types[f"{self._provider.fqn_prefix}.{self._provider.class_name}"]["docs"][
                "summary"
            ]
        )
        if url is None:
            raise SchemaError(f"{package.pin}: no registry link on {self._provider.class_name}")
        self.source = f"registry.terraform.io/{url[1]}"
        self.version = url[2]

    @property
    def name(self) -> str:
        return self._provider.tf_type

    def names(self, kind: str) -> list[str]:
        """The Terraform type names of `kind` (`resource` or `data`) the package provides."""
        return sorted(tf_type for k, tf_type in self._classes if k == kind)

    def _lookup(self, kind: str, tf_type: str) -> _Type:
        found = self._classes.get((kind, tf_type))
        if found is None:
            what = {"resource": "resource type", "data": "data source type"}[kind]
            hint = did_you_mean(tf_type, self.names(kind))
            raise SchemaError(f"unknown {what} {tf_type!r} in {self.name} {self.version}{hint}")
        return found

    def _read_modules(self, wanted: Iterable[_Type]) -> dict[str, _Module]:
        """One pass over the tarball, keeping the JavaScript of the wanted `lib/<dir>`s."""
        by_directory = {t.directory: t for t in wanted}
        sources: dict[str, list[tuple[str, str]]] = {d: [] for d in by_directory}
        with tarfile.open(self.package.tarball) as archive:
            for member in archive:
                parts = member.name.split("/")
                if len(parts) >= 4 and parts[1] == "lib" and parts[2] in sources:
                    handle = archive.extractfile(member) if parts[-1].endswith(".js") else None
                    if handle is not None:
                        sources[parts[2]].append((member.name, handle.read().decode("utf-8")))
        return {
            d: _Module(
                (text for _, text in sorted(sources[d])), self._types, by_directory[d].fqn_prefix
            )
            for d in by_directory
        }

    def _read(self, found: _Type, module: _Module) -> ir.Schema:
        body = module.class_body(found.class_name)
        if found.kind == "provider":
            declared = _SOURCE.search(body)
            if declared is None or _source_address(declared[1]) != self.source:
                raise SchemaError(
                    f"{found.class_name}: terraformProviderSource is not {self.source}"
                )
        else:
            declared = _TF_TYPE.search(body)
            if declared is None or declared[1] != found.tf_type:
                raise SchemaError(f"{found.class_name}: tfResourceType is not {found.tf_type}")
        version = _VERSION.search(body)
        if version is None or version[1] != self.version:
            raise SchemaError(f"{found.class_name}: providerVersion is not {self.version}")
        synth = _SYNTH.search(body)
        if synth is None:
            raise SchemaError(f"{found.class_name}: no synthesizeHclAttributes()")
        entries = _entries(synth[1])
        members = _members(body)
        if found.kind == "provider":
            entries = tuple(e for e in entries if e.name != "alias")
            members.pop("alias", None)
        block = module.block(struct=f"{found.class_name}Config", entries=entries, members=members)
        return ir.Schema(block=block)

    def schema(
        self, *, resources: Iterable[str] = (), data_sources: Iterable[str] = ()
    ) -> ir.ProviderSchema:
        """The provider block plus the named resource and data source types. An unknown name
        raises `SchemaError` suggesting close matches."""
        wanted = [self._lookup("resource", name) for name in sorted(set(resources))]
        wanted += [self._lookup("data", name) for name in sorted(set(data_sources))]
        modules = self._read_modules([self._provider, *wanted])
        provider_module = modules[self._provider.directory]
        found = _PROVIDER_SOURCE.search(provider_module.class_body(self._provider.class_name))
        if found is None:
            raise SchemaError(
                f"{self.package.pin}: {self._provider.class_name} passes no"
                " terraformProviderSource to cdktn"
            )
        return ir.ProviderSchema(
            source=self.source,
            version=self.version,
            terraform_source=found[1],
            provider=self._read(self._provider, provider_module),
            resources=tuple(
                (t.tf_type, self._read(t, modules[t.directory]))
                for t in wanted
                if t.kind == "resource"
            ),
            data_sources=tuple(
                (t.tf_type, self._read(t, modules[t.directory])) for t in wanted if t.kind == "data"
            ),
        )
