"""References inside a synthesized stack's `${...}` templates, checked as `terraform validate`
checks them: that each template parses as far as references go, that every `var.`, `local.`,
`data.` and resource reference names something the stack declares, and that an attribute read
from a resource is one its schema has.

Only what a reference names is checked, not the types of the expressions around it. Roots that
are not declarations (`count`, `each`, `self`, `path`, `terraform`, `module`, a `for`
expression's own symbols, function names) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tfprod.bindings.generator.ir import Block

Problem = tuple[str, str]
"""A path inside the block, and the message."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_TEMPLATE_START = re.compile(r"(?<!\$)\$\{")


class TemplateError(ValueError):
    """A template that does not parse."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "number", "punct"
    text: str


@dataclass(frozen=True, kw_only=True)
class Declared:
    """What a stack declares that a reference can name."""

    variables: frozenset[str]
    locals: frozenset[str]
    data: frozenset[tuple[str, str]]
    resources: frozenset[tuple[str, str]]
    resource_schemas: Mapping[str, Block]
    """Every resource type the stack's provider schemas know, with its block."""

    @classmethod
    def of(cls, stack_json: Mapping[str, Any], resource_schemas: Mapping[str, Block]) -> Declared:
        def pairs(kind: str) -> frozenset[tuple[str, str]]:
            section = stack_json.get(kind, {})
            if not isinstance(section, Mapping):
                return frozenset()
            return frozenset(
                (type_name, name)
                for type_name, named in section.items()
                if isinstance(named, Mapping)
                for name in named
            )

        def names(kind: str) -> frozenset[str]:
            section = stack_json.get(kind, {})
            return frozenset(section) if isinstance(section, Mapping) else frozenset()

        return cls(
            variables=names("variable"),
            locals=names("locals"),
            data=pairs("data"),
            resources=pairs("resource"),
            resource_schemas=resource_schemas,
        )


def value_problems(value: Any, path: str, declared: Declared) -> Iterator[Problem]:
    """Every reference problem in `value` (any JSON value) at `path` and below it."""
    if isinstance(value, str):
        try:
            expressions = list(template_expressions(value))
        except TemplateError as error:
            yield path, str(error)
            return
        for expression in expressions:
            try:
                yield from ((path, message) for message in _check(expression, declared))
            except TemplateError as error:
                yield path, f"{error} in ${{{expression}}}"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key == "//":  # cdktn's metadata, not configuration
                continue
            yield from value_problems(item, f"{path}.{key}" if path else str(key), declared)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from value_problems(item, f"{path}[{index}]", declared)


def template_expressions(text: str) -> Iterator[str]:
    """The expression of each `${...}` in `text`, outermost first, then those in its string
    literals; `$${` is a literal `${`."""
    position = 0
    while (start := _TEMPLATE_START.search(text, position)) is not None:
        end = _expression_end(text, start.end())
        expression = text[start.end() : end]
        yield expression
        yield from _nested(expression)
        position = end + 1


def _expression_end(text: str, position: int) -> int:
    """Index of the `}` closing the template whose expression starts at `position`."""
    depth = 0
    while position < len(text):
        char = text[position]
        if char == '"':
            position = _string_end(text, position)
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return position
            depth -= 1
        position += 1
    raise TemplateError(f"unterminated template ${{{text}")


def _string_end(text: str, position: int) -> int:
    """Index of the `"` closing the string literal opened at `position`."""
    position += 1
    while position < len(text):
        if text[position] == "\\":
            position += 2
            continue
        if text[position] == '"':
            return position
        position += 1
    raise TemplateError(f"unterminated string in ${{{text}}}")


def _nested(expression: str) -> Iterator[str]:
    position = 0
    while (quote := expression.find('"', position)) >= 0:
        end = _string_end(expression, quote)
        yield from template_expressions(expression[quote + 1 : end])
        position = end + 1


def _tokens(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        char = expression[position]
        if char.isspace():
            position += 1
        elif char == '"':
            position = _string_end(expression, position) + 1
            tokens.append(_Token("string", ""))
        elif match := _IDENTIFIER.match(expression, position):
            tokens.append(_Token("name", match.group()))
            position = match.end()
        elif match := _NUMBER.match(expression, position):
            tokens.append(_Token("number", match.group()))
            position = match.end()
        elif expression.startswith("...", position):
            tokens.append(_Token("punct", "..."))
            position += 3
        else:
            tokens.append(_Token("punct", char))
            position += 1
    return tokens


_UNCHECKED_ROOTS = frozenset({"count", "each", "self", "path", "terraform", "module"})


def _check(expression: str, declared: Declared) -> Iterator[str]:
    tokens = _tokens(expression)
    for index, token in enumerate(tokens):
        after_dot = index > 0 and tokens[index - 1].text == "."
        if token.kind != "name" or after_dot or token.text in _UNCHECKED_ROOTS:
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if following is not None and following.text == "(":
            continue  # a function call
        chain = _chain(tokens, index)
        yield from _reference(token.text, chain, declared)


def _chain(tokens: list[_Token], root: int) -> list[str]:
    """The attribute names and `[...]` indexes after the root at `root`, e.g. `metadata`,
    `[]`, `name` for `x.y.metadata[0].name`."""
    chain: list[str] = []
    index = root + 1
    while index < len(tokens):
        token = tokens[index]
        if token.text == ".":
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            named = following is not None and following.kind in ("name", "number")
            if following is None or not (named or following.text == "*"):
                raise TemplateError("an attribute name is required after a dot")
            chain.append(following.text)
            index += 2
        elif token.text == "[":
            depth, index = 1, index + 1
            while index < len(tokens) and depth:
                depth += {"[": 1, "]": -1}.get(tokens[index].text, 0)
                index += 1
            chain.append("[]")
        else:
            break
    return chain


def _reference(root: str, chain: list[str], declared: Declared) -> Iterator[str]:
    if root == "var":
        if chain and chain[0] not in declared.variables:
            yield f"reference to an undeclared input variable var.{chain[0]}"
    elif root == "local":
        if chain and chain[0] not in declared.locals:
            yield f"reference to an undeclared local value local.{chain[0]}"
    elif root == "data":
        if len(chain) >= 2 and (chain[0], chain[1]) not in declared.data:
            yield f"reference to an undeclared data source data.{chain[0]}.{chain[1]}"
    elif root in declared.resource_schemas or any(root == t for t, _ in declared.resources):
        if not chain or chain[0] == "[]":
            return
        if (root, chain[0]) not in declared.resources:
            yield f"reference to an undeclared resource {root}.{chain[0]}"
            return
        attributes = [name for name in chain[1:] if name != "[]"]
        block = declared.resource_schemas.get(root)
        if attributes and block is not None:
            known = {a.name for a in block.attributes} | {b.name for b in block.block_types}
            if attributes[0] not in known and attributes[0] != "*":
                yield f"{root}.{chain[0]} has no attribute or block {attributes[0]!r}"
