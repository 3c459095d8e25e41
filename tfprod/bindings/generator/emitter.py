"""IR -> Python source of typed bindings, one module per resource or data source.

Generated modules are declarative: each block becomes a `Struct` subclass holding a table of
`Field`s and a typed keyword-only `__init__`; each resource a `Resource` subclass with the
same plus token properties for its attributes. `tfprod.bindings._runtime` does the checking
and the Terraform JSON. Names follow the CDK Terrain provider generator (see `naming`), so
code written against a prebuilt `cdktn_provider_*` package works after swapping the import.

Descriptions the IR carries become docstrings, as in the prebuilt packages: each `__init__`
documents its keyword arguments (`:param name: ...`) and each token property its attribute.
A description is kept as the provider wrote it, made ASCII and safe inside a docstring.

The output is deterministic (the IR is ordered by name) and is passed through `ruff format`
(isolated from any configuration, line length 100) so it is ruff- and mypy-clean as committed.

What the prebuilt classes have and these do not: `...Config` structs, `put_x`/`reset_x`
mutators and `x_input` getters (configuration is given once, to the constructor, and checked
there), and HCL output (`synthesizeHclAttributes`). Class names are made unique across the
types generated together, as the cdktn generator does across a whole provider; a type whose
prebuilt name carries an `A` suffix because of a type outside the snapshot would differ.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
import tempfile
import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tfprod.bindings.generator import ir
from tfprod.bindings.generator.naming import (
    base_name,
    pascal_case,
    python_name,
    struct_name,
)

LINE_LENGTH = 100

# Members of cdktn's TerraformResource / TerraformDataSource / TerraformProvider: a Python
# member of the same name would silently override the jsii member.
_CDKTN_MEMBERS = frozenset(
    {
        "add_move_target", "add_override", "alias", "cdktf_stack", "connection", "count",
        "depends_on", "for_each", "fqn", "friendly_unique_id", "get_any_map_attribute",
        "get_boolean_attribute", "get_boolean_map_attribute", "get_list_attribute",
        "get_number_attribute", "get_number_list_attribute", "get_number_map_attribute",
        "get_string_attribute", "get_string_map_attribute", "has_resource_move", "import_from",
        "interpolation_for_attribute", "is_construct", "lifecycle", "meta_attributes",
        "move_from_id", "move_to", "move_to_id", "node", "override_logical_id", "provider",
        "provisioners", "reset_override_logical_id", "terraform_generator_metadata",
        "terraform_meta_arguments", "terraform_provider_source", "terraform_resource_type",
        "to_hcl_terraform", "to_metadata", "to_string", "to_terraform", "with_",
    }
)  # fmt: skip

_META_PARAMETERS = (
    ("connection", "Connection | None"),
    ("count", "float | TerraformCount | None"),
    ("depends_on", "Sequence[ITerraformDependable] | None"),
    ("for_each", "ITerraformIterator | None"),
    ("lifecycle", "Lifecycle | None"),
    ("provider", "TerraformProvider | None"),
    ("provisioners", "Sequence[Provisioner] | None"),
)


class EmitError(ValueError):
    """The schema cannot be emitted as bindings (e.g. a name collision); says which and why."""


@dataclass(frozen=True, kw_only=True)
class _Field:
    py: str
    tf: str
    spec: str
    annotation: str
    required: bool
    settable: bool
    sensitive: bool
    description: str = ""
    """The provider's documentation of the attribute or block (empty when it has none)."""
    block: str | None = None  # struct class of a nested block, for references
    single: bool = False
    result: str = "IResolvable"
    getter: str = "any_attr"


@dataclass(kw_only=True)
class _Struct:
    name: str
    doc: str
    fields: list[_Field]


@dataclass(kw_only=True)
class _Module:
    """Collects struct classes (children first) and the imports the text needs."""

    structs: list[_Struct] = field(default_factory=list)
    imports: dict[str, set[str]] = field(default_factory=dict)

    def need(self, module: str, *names: str) -> None:
        self.imports.setdefault(module, set()).update(names)


@dataclass(frozen=True, kw_only=True)
class Emitted:
    """Generated files, keyed by path relative to the package directory."""

    files: dict[str, str]


def _ascii(text: str) -> str:
    normalized = unicodedata.normalize("NFKD", text)
    return normalized.encode("ascii", "ignore").decode("ascii")


def _clean(text: str) -> str:
    """`text` on one line, ASCII and safe inside a docstring (backslashes doubled, no quote
    that could close it)."""
    clean = _ascii(" ".join(text.split())).replace("\\", "\\\\").replace('"""', r"\"\"\"")
    return clean.rstrip('"\\ ')


def _sentence(text: str) -> str:
    clean = _clean(text) or "Generated binding."
    return clean if clean.endswith(".") else clean + "."


def _wrap(text: str, indent: int, *, hanging: int = 0) -> list[str]:
    """`text` wrapped to the line length at `indent`, continuation lines `hanging` deeper."""
    pad = " " * indent
    return textwrap.wrap(
        text,
        width=LINE_LENGTH - 6,
        initial_indent=pad,
        subsequent_indent=pad + " " * hanging,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _quoted(lines: list[str], indent: int) -> list[str]:
    """Wrapped, indented `lines` as one docstring."""
    pad = " " * indent
    if len(lines) == 1:
        return [f'{pad}"""{lines[0].lstrip()}"""']
    return [f'{pad}"""{lines[0].lstrip()}', *lines[1:], f'{pad}"""']


def _docstring(text: str, indent: int, *, params: Iterable[_Field] = ()) -> list[str]:
    """A docstring wrapped to the line length: `text` as a sentence, then a `:param name:`
    line with the description of each of `params` that has one, as the prebuilt packages
    document their keyword arguments. Descriptions are kept as the provider wrote them (no
    full stop added: many end in a URL)."""
    lines = _wrap(_sentence(text), indent)
    documented = [(f.py, _clean(f.description)) for f in params if _clean(f.description)]
    if documented:
        lines.append("")
        for name, description in documented:
            lines += _wrap(f":param {name}: {description}", indent, hanging=4)
    return _quoted(lines, indent)


def _description(f: _Field, indent: int) -> list[str]:
    """The docstring of a field's token property: its description, if it has one."""
    description = _clean(f.description)
    return _quoted(_wrap(description, indent), indent) if description else []


class _Emitter:
    def __init__(self, provider: ir.ProviderSchema) -> None:
        self.provider = provider
        # Class names are unique across the whole provider, claimed in the generator's order
        # (resources, data sources, then the provider; each class, its `...Config`, then its
        # structs children first); a taken name gets an `A` suffix, e.g. `S3BucketVersioningA`
        # beside `aws_s3_bucket`'s `versioning` block `S3BucketVersioning`.
        self.claimed: set[str] = set()

    def _claim(self, name: str) -> str:
        while name in self.claimed:
            name += "A"
        self.claimed.add(name)
        return name

    # ----- types -----

    def _type(
        self, module: _Module, expr: ir.TypeExpr, path: tuple[str, ...], *, required: bool
    ) -> tuple[str, str]:
        """(spec code, annotation) of an attribute type expression."""
        if isinstance(expr, ir.Primitive):
            return self._primitive(module, expr)
        if isinstance(expr, ir.Collection):
            spec, annotation = self._type(module, expr.element, path, required=required)
            return self._collection(module, expr.kind.value, spec, annotation)
        if isinstance(expr, ir.ObjectType):
            attributes = tuple(
                ir.Attribute(name=name, type=t, required=required, optional=not required)
                for name, t in expr.attributes
            )
            return self._struct_spec(module, path, ir.Block(attributes=attributes), "")
        module.need("tfprod.bindings._values", "ANY")
        module.need("typing", "Any")
        return "ANY", "Any"

    def _primitive(self, module: _Module, expr: ir.Primitive) -> tuple[str, str]:
        if expr is ir.Primitive.DYNAMIC:
            module.need("tfprod.bindings._values", "ANY")
            module.need("collections.abc", "Mapping")
            module.need("typing", "Any")
            return "ANY", "Mapping[str, Any]"
        spec = {"string": "STRING", "number": "NUMBER", "bool": "BOOL"}[expr.value]
        module.need("tfprod.bindings._values", spec)
        if expr is ir.Primitive.BOOL:
            module.need("tfprod.bindings._core", "IResolvable")
            return spec, "bool | IResolvable"
        return spec, {"STRING": "str", "NUMBER": "float"}[spec]

    def _collection(
        self, module: _Module, kind: str, spec: str, annotation: str
    ) -> tuple[str, str]:
        token = "" if annotation in ("str", "float") else "IResolvable | "
        if token:
            module.need("tfprod.bindings._core", "IResolvable")
        if kind == "map":
            module.need("tfprod.bindings._values", "MapOf")
            module.need("collections.abc", "Mapping")
            return f"MapOf(element={spec})", f"{token}Mapping[str, {annotation}]"
        module.need("tfprod.bindings._values", "ListOf")
        module.need("collections.abc", "Sequence")
        kind_arg = ', kind="set"' if kind == "set" else ""
        return f"ListOf(element={spec}{kind_arg})", f"{token}Sequence[{annotation}]"

    def _struct_spec(
        self, module: _Module, path: tuple[str, ...], block: ir.Block, doc: str
    ) -> tuple[str, str]:
        name = self._struct(module, path, block, doc)
        module.need("tfprod.bindings._values", "StructOf")
        module.need("collections.abc", "Mapping")
        module.need("typing", "Any")
        return f"StructOf(struct={name})", f"{name} | Mapping[str, Any]"

    # ----- fields -----

    def _attribute(self, module: _Module, attr: ir.Attribute, path: tuple[str, ...]) -> _Field:
        settable = attr.required or attr.optional
        sub = (*path, attr.name)
        if not settable:
            spec, annotation = self._computed_type(module, attr)
        elif attr.nested is not None:
            spec, annotation = self._nested(module, attr.nested, sub)
        else:
            assert attr.type is not None  # the IR sets exactly one of type and nested
            spec, annotation = self._type(module, attr.type, sub, required=attr.required)
        result, getter = _reference(spec)
        return _Field(
            py=python_name(attr.name),
            tf=attr.name,
            spec=spec,
            annotation=annotation,
            required=attr.required,
            settable=settable,
            sensitive=attr.sensitive,
            description=attr.description,
            result=result,
            getter=getter,
        )

    def _computed_type(self, module: _Module, attr: ir.Attribute) -> tuple[str, str]:
        """Computed-only attributes are read as references, never given: primitives and
        collections of primitives keep their type, anything else is `ANY`."""
        if attr.type is not None and _is_plain(attr.type):
            return self._type(module, attr.type, (), required=False)
        module.need("tfprod.bindings._values", "ANY")
        module.need("typing", "Any")
        return "ANY", "Any"

    def _nested(
        self, module: _Module, nested: ir.NestedAttributes, path: tuple[str, ...]
    ) -> tuple[str, str]:
        spec, annotation = self._struct_spec(
            module, path, ir.Block(attributes=nested.attributes), ""
        )
        if nested.nesting in (ir.Nesting.SINGLE, ir.Nesting.GROUP):
            return spec, annotation
        kind = "map" if nested.nesting is ir.Nesting.MAP else nested.nesting.value
        return self._collection(module, kind, spec, annotation)

    def _block_type(self, module: _Module, bt: ir.BlockType, path: tuple[str, ...]) -> _Field:
        sub = (*path, bt.name)
        doc = bt.block.description or f"The `{bt.name}` block."
        spec, annotation = self._struct_spec(module, sub, bt.block, doc)
        struct = spec.removeprefix("StructOf(struct=").removesuffix(")")
        single = bt.nesting in (ir.Nesting.SINGLE, ir.Nesting.GROUP) or (
            bt.nesting in (ir.Nesting.LIST, ir.Nesting.SET) and bt.max_items == 1
        )
        if bt.nesting in (ir.Nesting.SINGLE, ir.Nesting.GROUP):
            # The generator requires a `single` block when every one of its fields is required.
            required = all(a.required for a in bt.block.attributes) and all(
                b.min_items > 0 for b in bt.block.block_types
            )
        elif single:
            required = bt.min_items > 0
        elif bt.nesting is ir.Nesting.MAP:
            required = False
            spec, annotation = self._collection(module, "map", spec, annotation)
        else:
            required = bt.min_items > 0
            spec, annotation = self._collection(module, bt.nesting.value, spec, annotation)
        return _Field(
            py=python_name(bt.name),
            tf=bt.name,
            spec=spec,
            annotation=annotation,
            required=required,
            settable=True,
            sensitive=False,
            description=bt.block.description,
            block=struct,
            single=single,
        )

    def _fields(self, module: _Module, block: ir.Block, path: tuple[str, ...]) -> list[_Field]:
        fields = [self._attribute(module, a, path) for a in block.attributes]
        fields += [self._block_type(module, b, path) for b in block.block_types]
        seen: dict[str, str] = {}
        for f in fields:
            if f.py in seen:
                raise EmitError(
                    f"{'.'.join(path)}: attributes {seen[f.py]!r} and {f.tf!r} "
                    f"both map to the Python name {f.py!r}"
                )
            seen[f.py] = f.tf
        return sorted(fields, key=lambda f: f.tf)

    def _struct(self, module: _Module, path: tuple[str, ...], block: ir.Block, doc: str) -> str:
        fields = self._fields(module, block, path)
        name = self._claim(struct_name(path))
        module.structs.append(_Struct(name=name, doc=doc, fields=fields))
        return name

    # ----- modules -----

    def element_module(
        self, tf_type: str, schema: ir.Schema, *, data: bool, header: list[str]
    ) -> tuple[str, str]:
        """(module name, source) of one resource or data source."""
        base = base_name(self.provider.name, tf_type, data=data)
        class_name = self._claim(pascal_case(base))
        self._claim(f"{class_name}Config")
        module = _Module()
        fields = self._fields(module, schema.block, (base,))
        for f in fields:
            if f.py in _CDKTN_MEMBERS:
                raise EmitError(
                    f"{tf_type}.{f.tf}: the Python name {f.py!r} collides with a member of "
                    "cdktn's TerraformResource; rename it in the generator before emitting"
                )
        kind = "data source" if data else "resource"
        doc = f"The `{tf_type}` {kind} of the {self.provider.name} provider."
        if schema.block.description:
            doc += " " + schema.block.description
        base_class = "DataSource" if data else "Resource"
        module.need("tfprod.bindings._runtime", base_class, "ProviderInfo", "Connection")
        module.need("tfprod.bindings._runtime", "Lifecycle", "Provisioner")
        module.need(
            "tfprod.bindings._core",
            "Construct",
            "TerraformCount",
            "ITerraformDependable",
            "ITerraformIterator",
            "TerraformProvider",
        )
        module.need("collections.abc", "Sequence", "Mapping")
        module.need("typing", "Any")
        body = self._element_class(
            module,
            class_name=class_name,
            base_class=base_class,
            tf_type=tf_type,
            fields=fields,
            doc=doc,
        )
        text = self._render(module, header, f"Typed binding of `{tf_type}`.", body)
        return base, text

    def provider_module(self, header: list[str]) -> str:
        class_name = self._claim(pascal_case(f"{self.provider.name}_provider"))
        self._claim(f"{class_name}Config")
        module = _Module()
        fields = self._fields(
            module, self.provider.provider.block, (f"{self.provider.name}_provider",)
        )
        module.need("tfprod.bindings._runtime", "Provider", "ProviderInfo")
        module.need("tfprod.bindings._core", "Construct")
        module.need("collections.abc", "Mapping")
        module.need("typing", "Any")
        lines = [f"class {class_name}(Provider):"]
        lines += _docstring(f"The {self.provider.name} provider configuration.", 4)
        lines += ["", *self._class_tables(module, fields, None), ""]
        params = [*self._params(fields), "alias: str | None = None"]
        lines += self._init(fields, params, ("scope", "id"), ["alias=alias"], what="provider")
        body = "\n".join(lines)
        return self._render(module, header, "Typed binding of the provider configuration.", body)

    def _class_tables(
        self, module: _Module, fields: list[_Field], tf_type: str | None
    ) -> list[str]:
        lines = []
        if tf_type is not None:
            lines.append(f"    TF_RESOURCE_TYPE = {tf_type!r}")
        lines.append("    tf_provider = PROVIDER")
        lines.append(_fields_table(module, fields))
        return lines

    def _params(self, fields: list[_Field]) -> list[str]:
        settable = [f for f in fields if f.settable]
        required = [f"{f.py}: {f.annotation}" for f in settable if f.required]
        optional = [f"{f.py}: {f.annotation} | None = None" for f in settable if not f.required]
        return required + optional

    def _init(
        self,
        fields: list[_Field],
        params: list[str],
        names: tuple[str, str],
        extra: list[str],
        *,
        what: str,
    ) -> list[str]:
        """`__init__` passing the config (keyed by Python name) to the runtime base class;
        `names` are the positional scope and id parameters, `what` the kind of element."""
        scope, id_name = names
        config = ", ".join(f'"{f.py}": {f.py}' for f in fields if f.settable)
        args = ", ".join([scope, id_name, "{" + config + "}", *extra])
        signature = ", ".join(["self", f"{scope}: Construct", f"{id_name}: str", "*", *params])
        summary = f"Adds the {what} to `{scope}` as `{id_name}`; an argument left as None is "
        summary += "left out."
        return [
            f"    def __init__({signature},) -> None:",
            *_params_docstring(summary, fields),
            f"        super().__init__({args})",
        ]

    def _element_class(
        self,
        module: _Module,
        *,
        class_name: str,
        base_class: str,
        tf_type: str,
        fields: list[_Field],
        doc: str,
    ) -> str:
        lines = [f"class {class_name}({base_class}):", *_docstring(doc, 4), ""]
        lines += self._class_tables(module, fields, tf_type)
        lines.append("")
        settable_names = {f.py for f in fields if f.settable}
        id_name = "id_" if "id" in settable_names else "id"
        scope_name = "scope_" if "scope" in settable_names else "scope"
        params = self._params(fields) + [f"{name}: {t} = None" for name, t in _META_PARAMETERS]
        extra = [f"{name}={name}" for name, _ in _META_PARAMETERS]
        kind = "data source" if base_class == "DataSource" else "resource"
        lines += self._init(fields, params, (scope_name, id_name), extra, what=kind)
        for f in fields:
            lines.append("")
            lines += self._property(module, f)
        return "\n".join(lines)

    def _property(self, module: _Module, f: _Field) -> list[str]:
        if f.block is not None:
            module.need("tfprod.bindings._runtime", "BlockRef")
            single = "True" if f.single else "False"
            result = "BlockRef"
            expr = f"BlockRef(self, {f.tf!r}, {f.block}, single={single})"
        else:
            module.need("tfprod.bindings._runtime", f.getter)
            if f.result == "IResolvable":
                module.need("tfprod.bindings._core", "IResolvable")
            result = f.result
            expr = f"{f.getter}(self, {f.tf!r})"
        return [
            "    @property",
            f"    def {f.py}(self) -> {result}:",
            *_description(f, 8),
            f"        return {expr}".replace("'", '"'),
        ]

    def _struct_class(self, module: _Module, struct: _Struct) -> str:
        module.need("tfprod.bindings._values", "Struct", "Field")
        lines = [f"class {struct.name}(Struct):"]
        lines += _docstring(struct.doc or f"The `{struct.name}` object.", 4)
        lines += ["", _fields_table(module, struct.fields), ""]
        params = self._params(struct.fields)
        if params:
            signature = ", ".join(["self", "*", *params])
            values = ", ".join(f"{f.py}={f.py}" for f in struct.fields if f.settable)
            summary = "An argument left as None is left out of the block."
            lines += [
                f"    def __init__({signature},) -> None:",
                *_params_docstring(summary, struct.fields),
                f"        super().__init__({values})",
            ]
        else:
            lines += ["    def __init__(self) -> None:", "        super().__init__()"]
        return "\n".join(lines)

    def _render(self, module: _Module, header: list[str], doc: str, body: str) -> str:
        structs = [self._struct_class(module, s) for s in module.structs]
        module.need("tfprod.bindings._runtime", "ProviderInfo")
        provider = (
            f"PROVIDER = ProviderInfo(name={self.provider.name!r}, "
            f"source={self.provider.terraform_source or _short_source(self.provider.source)!r}, "
            f"version={self.provider.version!r})"
        ).replace("'", '"')
        code = _DOCSTRING.sub("", "\n".join([provider, *structs, body]))
        used = {
            source: {name for name in names if re.search(rf"\b{name}\b", code)}
            for source, names in module.imports.items()
        }
        parts = [
            "\n".join([*header, *_docstring(doc, 0)]),
            _imports({source: names for source, names in used.items() if names})
            + "\n\n"
            + provider,
            *structs,
            body,
        ]
        return "\n\n\n".join(parts) + "\n"


# Docstrings are left out when looking for the names a module uses: a description may say "Any".
_DOCSTRING = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""')


def _params_docstring(summary: str, fields: Iterable[_Field]) -> list[str]:
    """The docstring of an `__init__` whose settable `fields` have descriptions; none if
    none has one (the class docstring says what the class is)."""
    settable = [f for f in fields if f.settable]
    if not any(_clean(f.description) for f in settable):
        return []
    return _docstring(summary, 8, params=settable)


def _fields_table(module: _Module, fields: Iterable[_Field]) -> str:
    module.need("tfprod.bindings._values", "Field")
    rows = []
    for f in fields:
        args = [f"py={f.py!r}", f"spec={f.spec}"]
        if f.tf != f.py:
            args.append(f"tf={f.tf!r}")
        if f.required:
            args.append("required=True")
        if not f.settable:
            args.append("settable=False")
        if f.sensitive:
            args.append("sensitive=True")
        rows.append(f"Field({', '.join(args)}),".replace("'", '"'))
    return "    tf_fields = (" + "".join(rows) + ")"


def _is_plain(expr: ir.TypeExpr) -> bool:
    if isinstance(expr, ir.Primitive):
        return expr is not ir.Primitive.DYNAMIC
    if isinstance(expr, ir.Collection):
        return isinstance(expr.element, ir.Primitive) and _is_plain(expr.element)
    return False


def _reference(spec: str) -> tuple[str, str]:
    """(return annotation, runtime getter) of the token property for a field's spec."""
    return {
        "STRING": ("str", "string_attr"),
        "NUMBER": ("float", "number_attr"),
        "BOOL": ("IResolvable", "bool_attr"),
        "ListOf(element=STRING)": ("list[str]", "list_attr"),
        'ListOf(element=STRING, kind="set")': ("list[str]", "list_attr"),
        "ListOf(element=NUMBER)": ("list[float]", "number_list_attr"),
        'ListOf(element=NUMBER, kind="set")': ("list[float]", "number_list_attr"),
        "MapOf(element=STRING)": ("dict[str, str]", "string_map_attr"),
    }.get(spec, ("IResolvable", "any_attr"))


def _short_source(source: str) -> str:
    """`registry.terraform.io/hashicorp/kubernetes` -> `hashicorp/kubernetes`, as cdktn writes."""
    return source.removeprefix("registry.terraform.io/")


def _import_key(name: str) -> tuple[int, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def _imports(imports: dict[str, set[str]]) -> str:
    groups = [
        ["from __future__ import annotations"],
        [
            f"from {m} import {', '.join(sorted(imports[m], key=_import_key))}"
            for m in ("collections.abc", "typing")
            if m in imports
        ],
        [
            f"from {m} import {', '.join(sorted(imports[m], key=_import_key))}"
            for m in sorted(imports)
            if m.startswith("tfprod.")
        ],
    ]
    return "\n\n".join("\n".join(g) for g in groups if g)


def header_lines(snapshot: str, provider: ir.ProviderSchema) -> list[str]:
    return [
        f"# generated by `tfprod bindings generate` from {snapshot}",
        f"# ({provider.name} {provider.version or 'unversioned'}); do not edit",
    ]


def ruff_format(sources: dict[str, str]) -> dict[str, str]:
    """`sources` (keyed by file name) as `ruff format` writes them, ignoring any configuration
    file; one ruff run for all of them."""
    with tempfile.TemporaryDirectory(prefix="tfprod-bindings-") as tmp:
        for name, text in sources.items():
            Path(tmp, name).write_text(text, encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--isolated",
            "--quiet",
            f"--line-length={LINE_LENGTH}",
            "--target-version=py311",
            tmp,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise EmitError(f"ruff format rejected the generated code: {done.stderr.strip()}")
        return {name: Path(tmp, name).read_text(encoding="utf-8") for name in sources}


def emit_package(
    provider: ir.ProviderSchema,
    *,
    snapshot: str,
    resources: Iterable[str] | None = None,
    data_sources: Iterable[str] | None = None,
) -> Emitted:
    """The files of `tfprod.bindings.<provider>`: `__init__.py`, `provider.py` and one module
    per resource (default: all in the schema) and data source."""
    header = header_lines(snapshot, provider)
    emitter = _Emitter(provider)
    wanted_resources = _pick(provider.resources, resources, "resource type", provider)
    wanted_data = _pick(provider.data_sources, data_sources, "data source", provider)
    files: dict[str, str] = {}
    modules = ["provider"]
    for tf_type, schema in wanted_resources:
        name, text = emitter.element_module(tf_type, schema, data=False, header=header)
        files[f"{name}.py"] = text
        modules.append(name)
    for tf_type, schema in wanted_data:
        name, text = emitter.element_module(tf_type, schema, data=True, header=header)
        files[f"{name}.py"] = text
        modules.append(name)
    files["provider.py"] = emitter.provider_module(header)
    package = f"tfprod.bindings.{provider.name}"
    init = [
        *header,
        *_docstring(
            f"Typed bindings for the {provider.name} provider "
            f"({provider.version or 'unversioned'}), mirroring the prebuilt cdktn package.",
            0,
        ),
        "",
        f"from {package} import {', '.join(sorted(modules))}",
        "",
        "__all__ = [" + ", ".join(f'"{m}"' for m in sorted(modules)) + ",]",
    ]
    files["__init__.py"] = "\n".join(init) + "\n"
    return Emitted(files=dict(sorted(ruff_format(files).items())))


def _pick(
    available: tuple[tuple[str, ir.Schema], ...],
    wanted: Iterable[str] | None,
    what: str,
    provider: ir.ProviderSchema,
) -> list[tuple[str, ir.Schema]]:
    if wanted is None:
        return list(available)
    by_name = dict(available)
    picked = []
    for name in sorted(set(wanted)):
        if name not in by_name:
            close = difflib.get_close_matches(name, sorted(by_name), n=1)
            known = (
                f"did you mean {close[0]!r}?"
                if close
                else "it has: " + (", ".join(sorted(by_name)) or "none")
            )
            raise EmitError(f"unknown {what} {name!r} in the {provider.name} schema; {known}")
        picked.append((name, by_name[name]))
    return picked


def write_package(
    provider: ir.ProviderSchema,
    out: Path,
    *,
    snapshot: str,
    resources: Iterable[str] | None = None,
    data_sources: Iterable[str] | None = None,
) -> list[Path]:
    """Emit the package into `out`, removing modules generated earlier that are not emitted
    now (files without the generated header are never touched). Returns the files written."""
    emitted = emit_package(
        provider, snapshot=snapshot, resources=resources, data_sources=data_sources
    )
    out.mkdir(parents=True, exist_ok=True)
    marker = "# generated by `tfprod bindings generate`"
    for stale in sorted(out.glob("*.py")):
        if stale.name not in emitted.files and stale.read_text(encoding="utf-8").startswith(marker):
            stale.unlink()
    written = []
    for name, text in emitted.files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
