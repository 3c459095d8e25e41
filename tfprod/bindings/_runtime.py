"""Base classes the generated bindings build on, over cdktn's generic Terraform elements.

A generated resource class holds only tables (`tf_fields`, the Terraform type, the provider
it belongs to) and a typed `__init__`; `Resource` checks the configuration against the tables
at construction, before anything is added to the construct tree, and hands cdktn the
Terraform JSON once, when the element is created (`tfprod.bindings._elements` says why: a
Python override of cdktn's `synthesizeAttributes` would be called back on every synthesis
pass). Everything else (`add_override`, `lifecycle`, `depends_on`, `count`, `for_each`,
references through `fqn`) is cdktn's own.

Names defined here must not collide with jsii members of cdktn's classes: jsii treats a
Python member with a jsii member's name as an override, answered by a callback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, TypeAlias, cast

import jsii

from tfprod.bindings._core import (
    Construct,
    FileProvisioner,
    IImportableConfig,
    ImportableResource,
    IResolvable,
    ITerraformDependable,
    ITerraformIterator,
    LocalExecProvisioner,
    RemoteExecProvisioner,
    SSHProvisionerConnection,
    TerraformCount,
    TerraformProvider,
    TerraformProviderConfig,
    TerraformProviderGeneratorMetadata,
    TerraformResourceConfig,
    TerraformResourceLifecycle,
    WinrmProvisionerConnection,
)
from tfprod.bindings._elements import (
    AttributedDataSource,
    AttributedProvider,
    AttributedResource,
    element_type,
)
from tfprod.bindings._values import (
    BindingValueError,
    Field,
    ListOf,
    MapOf,
    Primitive,
    Spec,
    Struct,
    StructOf,
    convert_fields,
)

Connection: TypeAlias = SSHProvisionerConnection | WinrmProvisionerConnection | Mapping[str, Any]
Lifecycle: TypeAlias = TerraformResourceLifecycle | Mapping[str, Any]
Provisioner: TypeAlias = (
    FileProvisioner | LocalExecProvisioner | RemoteExecProvisioner | Mapping[str, Any]
)

_PROVISIONERS: dict[str, Any] = {
    "file": FileProvisioner,
    "local-exec": LocalExecProvisioner,
    "remote-exec": RemoteExecProvisioner,
}


@dataclass(frozen=True, kw_only=True)
class ProviderInfo:
    """What `required_providers` needs: local name, registry source and pinned version."""

    name: str
    source: str
    version: str | None

    def generator_metadata(self) -> Any:
        return TerraformProviderGeneratorMetadata(
            provider_name=self.name, provider_version=self.version
        )


def _check(cls: type[Any], config: Mapping[str, Any]) -> dict[str, Any]:
    return convert_fields(cls.tf_fields, config, cls.__name__)


def _lifecycle(value: Lifecycle | None) -> Any:
    if isinstance(value, Mapping):
        return TerraformResourceLifecycle(**value)
    return value


def _connection(value: Connection | None) -> Any:
    if isinstance(value, Mapping):
        if value.get("type") == "winrm":
            return WinrmProvisionerConnection(**value)
        return SSHProvisionerConnection(**value)
    return value


def _provisioners(values: Sequence[Provisioner] | None) -> Any:
    if values is None:
        return None
    result = []
    for value in values:
        if not isinstance(value, Mapping):
            result.append(value)
            continue
        kind = value.get("type")
        if kind not in _PROVISIONERS:
            raise BindingValueError(
                f"provisioners: unknown provisioner type {kind!r}; "
                f"expected one of: {', '.join(sorted(_PROVISIONERS))}"
            )
        result.append(_PROVISIONERS[kind](**value))
    return result


@cache
def _element_type(cls: Any) -> dict[str, str]:
    info = cls.tf_provider
    return element_type(cls.TF_RESOURCE_TYPE, info.name, info.version)


def _element_config(
    cls: Any,
    *,
    connection: Connection | None,
    count: float | TerraformCount | None,
    depends_on: Sequence[ITerraformDependable] | None,
    for_each: ITerraformIterator | None,
    lifecycle: Lifecycle | None,
    provider: TerraformProvider | None,
    provisioners: Sequence[Provisioner] | None,
) -> Any:
    """cdktn's config for resources and data sources, or None when `provider` is the only
    meta-argument given (the JavaScript side then builds it: a struct costs a type check per
    field and a serialization per element)."""
    if (connection, count, depends_on, for_each, lifecycle, provisioners) == (None,) * 6:
        return None
    return TerraformResourceConfig(
        terraform_resource_type=cls.TF_RESOURCE_TYPE,
        terraform_generator_metadata=cls.tf_provider.generator_metadata(),
        connection=_connection(connection),
        count=count,
        depends_on=depends_on,
        for_each=for_each,
        lifecycle=_lifecycle(lifecycle),
        provider=provider,
        provisioners=_provisioners(provisioners),
    )


@jsii.implements(IImportableConfig)
class _ImportConfig:
    """cdktn's `IImportableConfig` (an interface, so not constructible from a dict)."""

    def __init__(
        self, resource_type: str, import_id: str, provider: TerraformProvider | None
    ) -> None:
        self._resource_type = resource_type
        self._import_id = import_id
        self._provider = provider

    @property
    def terraform_resource_type(self) -> str:
        return self._resource_type

    @property
    def import_id(self) -> str:
        return self._import_id

    @property
    def provider(self) -> TerraformProvider | None:
        return self._provider


class Resource(AttributedResource):
    """Base of generated resource classes."""

    TF_RESOURCE_TYPE: ClassVar[str]
    tf_fields: ClassVar[tuple[Field, ...]]
    tf_provider: ClassVar[ProviderInfo]

    def __init__(
        self,
        scope: Construct,
        id: str,
        config: Mapping[str, Any],
        *,
        connection: Connection | None = None,
        count: float | TerraformCount | None = None,
        depends_on: Sequence[ITerraformDependable] | None = None,
        for_each: ITerraformIterator | None = None,
        lifecycle: Lifecycle | None = None,
        provider: TerraformProvider | None = None,
        provisioners: Sequence[Provisioner] | None = None,
    ) -> None:
        attributes = _check(type(self), config)
        element_config = _element_config(
            type(self),
            connection=connection,
            count=count,
            depends_on=depends_on,
            for_each=for_each,
            lifecycle=lifecycle,
            provider=provider,
            provisioners=provisioners,
        )
        super().__init__(
            scope,
            id,
            attributes,
            element=_element_type(type(self)),
            provider=provider,
            config=element_config,
        )

    @classmethod
    def generate_config_for_import(
        cls,
        scope: Construct,
        import_to_id: str,
        import_from_id: str,
        provider: TerraformProvider | None = None,
    ) -> ImportableResource:
        """An import block for an existing `import_from_id`, as the prebuilt classes offer."""
        config = _ImportConfig(cls.TF_RESOURCE_TYPE, import_from_id, provider)
        # jsii reads the interface's members through the properties; mypy's protocol check
        # wants settable attributes, which an import config never needs.
        return ImportableResource(scope, import_to_id, cast(IImportableConfig, config))


class DataSource(AttributedDataSource):
    """Base of generated data source classes (the same checks as `Resource`)."""

    TF_RESOURCE_TYPE: ClassVar[str]
    tf_fields: ClassVar[tuple[Field, ...]]
    tf_provider: ClassVar[ProviderInfo]

    def __init__(
        self,
        scope: Construct,
        id: str,
        config: Mapping[str, Any],
        *,
        connection: Connection | None = None,
        count: float | TerraformCount | None = None,
        depends_on: Sequence[ITerraformDependable] | None = None,
        for_each: ITerraformIterator | None = None,
        lifecycle: Lifecycle | None = None,
        provider: TerraformProvider | None = None,
        provisioners: Sequence[Provisioner] | None = None,
    ) -> None:
        attributes = _check(type(self), config)
        element_config = _element_config(
            type(self),
            connection=connection,
            count=count,
            depends_on=depends_on,
            for_each=for_each,
            lifecycle=lifecycle,
            provider=provider,
            provisioners=provisioners,
        )
        super().__init__(
            scope,
            id,
            attributes,
            element=_element_type(type(self)),
            provider=provider,
            config=element_config,
        )


class Provider(AttributedProvider):
    """Base of generated provider classes; `alias` is emitted and used in references."""

    tf_fields: ClassVar[tuple[Field, ...]]
    tf_provider: ClassVar[ProviderInfo]

    def __init__(
        self, scope: Construct, id: str, config: Mapping[str, Any], *, alias: str | None
    ) -> None:
        attributes = _check(type(self), config)
        if alias is not None and not isinstance(alias, str):
            raise BindingValueError(f"{type(self).__name__}.alias: expected string, got {alias!r}")
        provider_config = TerraformProviderConfig(
            terraform_resource_type=self.tf_provider.name,
            terraform_generator_metadata=self.tf_provider.generator_metadata(),
            terraform_provider_source=self.tf_provider.source,
        )
        super().__init__(scope, id, attributes, config=provider_config, alias=alias)


def string_attr(element: Any, name: str) -> str:
    """A `${type.name.attr}` reference to a string attribute."""
    return cast(str, element.get_string_attribute(name))


def number_attr(element: Any, name: str) -> float:
    return cast(float, element.get_number_attribute(name))


def bool_attr(element: Any, name: str) -> IResolvable:
    return cast(IResolvable, element.get_boolean_attribute(name))


def list_attr(element: Any, name: str) -> list[str]:
    return cast(list[str], element.get_list_attribute(name))


def number_list_attr(element: Any, name: str) -> list[float]:
    return cast(list[float], element.get_number_list_attribute(name))


def string_map_attr(element: Any, name: str) -> dict[str, str]:
    return cast(dict[str, str], element.get_string_map_attribute(name))


def any_attr(element: Any, name: str) -> IResolvable:
    """A reference to an attribute of any other shape (objects, maps of numbers, ...)."""
    return cast(IResolvable, element.interpolation_for_attribute(name))


def reference(element: Any, name: str, spec: Spec) -> Any:
    """The token for attribute `name` (a Terraform path) of `element`, typed by `spec`."""
    if isinstance(spec, Primitive):
        getter = {"string": string_attr, "number": number_attr, "bool": bool_attr}
        return getter.get(spec.name, any_attr)(element, name)
    if isinstance(spec, ListOf) and spec.element == Primitive(name="string"):
        return list_attr(element, name)
    if isinstance(spec, ListOf) and spec.element == Primitive(name="number"):
        return number_list_attr(element, name)
    if isinstance(spec, MapOf) and spec.element == Primitive(name="string"):
        return string_map_attr(element, name)
    return any_attr(element, name)


class BlockRef:
    """References into a nested block, like the prebuilt `...OutputReference` classes:
    `deployment.metadata.uid`, `namespace.metadata.get(0).name`.

    `single` blocks are addressed as element 0, as the prebuilt packages do."""

    def __init__(self, element: Any, path: str, struct: type[Struct], *, single: bool) -> None:
        self._element = element
        self._path = path
        self._struct = struct
        self._single = single

    def get(self, index: int) -> BlockRef:
        """Element `index` of a block list."""
        return BlockRef(self._element, f"{self._path}[{index}]", self._struct, single=False)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        prefix = f"{self._path}[0]" if self._single else self._path
        for field in self._struct.tf_fields:
            if field.py != name:
                continue
            spec = field.spec
            if isinstance(spec, StructOf):
                return BlockRef(self._element, f"{prefix}.{field.tf}", spec.struct, single=True)
            if isinstance(spec, ListOf) and isinstance(spec.element, StructOf):
                return BlockRef(
                    self._element, f"{prefix}.{field.tf}", spec.element.struct, single=False
                )
            return reference(self._element, f"{prefix}.{field.tf}", spec)
        raise AttributeError(f"{self._struct.__name__} has no attribute {name!r}")


__all__ = [
    "BlockRef",
    "Connection",
    "DataSource",
    "Lifecycle",
    "Provider",
    "ProviderInfo",
    "Provisioner",
    "Resource",
    "any_attr",
    "bool_attr",
    "list_attr",
    "number_attr",
    "number_list_attr",
    "reference",
    "string_attr",
    "string_map_attr",
]
