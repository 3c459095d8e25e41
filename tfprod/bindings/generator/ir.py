"""The one intermediate representation of a Terraform provider schema.

Both front ends (`terraform providers schema -json` output, and the jsii assembly of a
prebuilt CDK Terrain provider) produce it; the emitter and `tfprod validate` consume it.
It mirrors Terraform's own schema model (configschema): a block has attributes and
nested block types; an attribute has a type expression, or (protocol 6) nested attributes.
Everything is immutable and ordered by name, so the same schema always emits the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TypeAlias


class Primitive(Enum):
    """Terraform's primitive types; DYNAMIC is the type expression `"dynamic"` (any value)."""

    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    DYNAMIC = "dynamic"


class CollectionKind(Enum):
    LIST = "list"
    SET = "set"
    MAP = "map"


@dataclass(frozen=True, kw_only=True)
class Collection:
    """`["list", T]`, `["set", T]` or `["map", T]`."""

    kind: CollectionKind
    element: TypeExpr


@dataclass(frozen=True, kw_only=True)
class ObjectType:
    """`["object", {name: T, ...}]`, with the optional-attribute list of Terraform >= 1.3."""

    attributes: tuple[tuple[str, TypeExpr], ...]
    optional: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class TupleType:
    """`["tuple", [T, ...]]`."""

    elements: tuple[TypeExpr, ...]


TypeExpr: TypeAlias = Primitive | Collection | ObjectType | TupleType


class Nesting(Enum):
    """How a nested block (or nested attribute type) repeats. GROUP is `single` that is
    never null; it only appears in blocks of protocol 6 providers."""

    SINGLE = "single"
    GROUP = "group"
    LIST = "list"
    SET = "set"
    MAP = "map"


@dataclass(frozen=True, kw_only=True)
class NestedAttributes:
    """Protocol 6 `nested_type`: an attribute whose value is shaped like a block."""

    nesting: Nesting
    attributes: tuple[Attribute, ...]
    min_items: int = 0
    max_items: int | None = None


@dataclass(frozen=True, kw_only=True)
class Attribute:
    """One attribute of a block. Exactly one of `type` and `nested` is set."""

    name: str
    type: TypeExpr | None = None
    nested: NestedAttributes | None = None
    required: bool = False
    optional: bool = False
    computed: bool = False
    sensitive: bool = False
    deprecated: bool = False
    description: str = ""
    write_only: bool = False
    """Terraform >= 1.11: accepted in configuration, never stored in state or plan."""


@dataclass(frozen=True, kw_only=True)
class BlockType:
    """A nested block type, e.g. `spec` inside `kubernetes_deployment_v1`."""

    name: str
    nesting: Nesting
    block: Block
    min_items: int = 0
    max_items: int | None = None


@dataclass(frozen=True, kw_only=True)
class Block:
    attributes: tuple[Attribute, ...] = ()
    block_types: tuple[BlockType, ...] = ()
    description: str = ""
    deprecated: bool = False


@dataclass(frozen=True, kw_only=True)
class Schema:
    """The schema of a provider configuration, a resource type or a data source."""

    version: int = 0
    block: Block = field(default_factory=Block)


@dataclass(frozen=True, kw_only=True)
class ProviderSchema:
    """One provider: its source address (e.g. `registry.terraform.io/hashicorp/kubernetes`),
    its pinned version (`None` when the source format does not record one), its own
    configuration block, and its resource and data source schemas keyed by type name."""

    source: str
    version: str | None
    provider: Schema
    resources: tuple[tuple[str, Schema], ...] = ()
    data_sources: tuple[tuple[str, Schema], ...] = ()
    terraform_source: str | None = None
    """The source as the prebuilt cdktn package writes it into `required_providers` (e.g.
    `azurerm`, where others write `hashicorp/aws`), so generated bindings write the same.
    `None`: `source` without its registry host."""

    @property
    def name(self) -> str:
        """The local name, e.g. `kubernetes` for `registry.terraform.io/hashicorp/kubernetes`."""
        return self.source.rsplit("/", 1)[-1]
