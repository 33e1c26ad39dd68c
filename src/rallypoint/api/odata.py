"""The OData subset OSDI clients send in `filter`, parsed properly and turned into Q objects.

    modified_date gt '2014-03-25'
    email_address eq 'ana@example.org' or (region eq 'CO' and created_date ge '2024-01-01')

Grammar (keywords are case-insensitive; `and` binds tighter than `or`):

    expr       := and_expr ("or" and_expr)*
    and_expr   := term ("and" term)*
    term       := "(" expr ")" | comparison
    comparison := FIELD OP value
    OP         := eq | ne | gt | ge | lt | le
    value      := 'string' ('' escapes a quote) | number | true | false | null
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime

OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")
LOOKUPS = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
MAX_LENGTH = 2000
MAX_DEPTH = 20

TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?![\w:]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_.:-]*)
    """,
    re.VERBOSE,
)


class FilterError(ValueError):
    """A filter we cannot read; the message says where and why."""


@dataclass(frozen=True)
class Token:
    kind: str  # lparen, rparen, string, number, word, end
    value: Any
    position: int


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Any, ...]


Node = Comparison | BoolOp


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = TOKEN_RE.match(text, position)
        if match is None:
            if text[position] == "'":
                raise FilterError(f"The text starting at position {position + 1} has no closing '.")
            raise FilterError(f"Unexpected {text[position]!r} at position {position + 1}.")
        kind = match.lastgroup or ""
        raw = match.group()
        if kind == "string":
            tokens.append(Token("string", raw[1:-1].replace("''", "'"), position))
        elif kind == "number":
            tokens.append(Token("number", float(raw) if "." in raw else int(raw), position))
        elif kind != "space":
            tokens.append(Token(kind, raw, position))
        position = match.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def at_keyword(self, word: str) -> bool:
        return self.current.kind == "word" and self.current.value.lower() == word

    def parse(self) -> Node:
        node = self.expr()
        if self.current.kind != "end":
            raise FilterError(
                f"Expected 'and', 'or' or the end of the filter at position "
                f"{self.current.position + 1}, found {self.describe(self.current)}."
            )
        return node

    def expr(self) -> Node:
        operands = [self.and_expr()]
        while self.at_keyword("or"):
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.term()]
        while self.at_keyword("and"):
            self.advance()
            operands.append(self.term())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def term(self) -> Node:
        if self.current.kind == "lparen":
            opening = self.advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FilterError(f"Too many nested parentheses (at most {MAX_DEPTH}).")
            node = self.expr()
            if self.current.kind != "rparen":
                raise FilterError(
                    f"The parenthesis at position {opening.position + 1} is never closed."
                )
            self.advance()
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        field = self.advance()
        if field.kind != "word" or field.value.lower() in (*OPERATORS, "and", "or"):
            raise FilterError(
                f"Expected a field name at position {field.position + 1}, "
                f"found {self.describe(field)}."
            )
        op = self.advance()
        if op.kind != "word" or op.value.lower() not in OPERATORS:
            raise FilterError(
                f"Expected an operator ({', '.join(OPERATORS)}) after '{field.value}' at "
                f"position {op.position + 1}, found {self.describe(op)}."
            )
        value = self.advance()
        if value.kind in {"string", "number"}:
            literal = value.value
        elif value.kind == "word" and value.value.lower() in {"true", "false", "null"}:
            literal = {"true": True, "false": False, "null": None}[value.value.lower()]
        else:
            raise FilterError(
                f"Expected a value in single quotes after '{field.value} {op.value}' at position "
                f"{value.position + 1}, found {self.describe(value)}."
            )
        return Comparison(field.value.lower(), op.value.lower(), literal)

    @staticmethod
    def describe(token: Token) -> str:
        if token.kind == "end":
            return "the end of the filter"
        if token.kind == "string":
            return f"'{token.value}'"
        return repr(str(token.value))


def parse(text: str) -> Node:
    text = (text or "").strip()
    if not text:
        raise FilterError("The filter is empty.")
    if len(text) > MAX_LENGTH:
        raise FilterError(f"The filter is too long (at most {MAX_LENGTH} characters).")
    return _Parser(tokenize(text)).parse()


# --- Fields: how each filterable name becomes a Q ---------------------------------------------

QBuilder = Callable[[str, Any], Q]


@dataclass(frozen=True)
class Field:
    """A filterable field. `build(op, value)` returns the Q for one comparison."""

    name: str
    kind: str  # "datetime", "string", "number", "boolean"
    build: QBuilder
    operators: tuple[str, ...] = OPERATORS


def _as_datetime(field: str, value: Any) -> datetime:
    if not isinstance(value, str):
        raise FilterError(f"{field} takes a date in quotes, e.g. {field} gt '2024-03-25'.")
    text = value.strip().replace(" ", "T", 1)
    try:
        parsed = parse_datetime(text)
        if parsed is None:
            day = parse_date(text)
            parsed = datetime.combine(day, time.min) if day else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise FilterError(
            f"{field}: {value!r} is not a date; use 2024-03-25 or 2024-03-25T14:30:00Z."
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def date_field(name: str, path: str) -> Field:
    def build(op: str, value: Any) -> Q:
        moment = _as_datetime(name, value)
        if op in ("eq", "ne"):
            # A date-only value means that whole day; a full timestamp means that second.
            is_day = isinstance(value, str) and len(value.strip()) <= 10
            span = timedelta(days=1) if is_day else timedelta(seconds=1)
            q = Q(**{f"{path}__gte": moment, f"{path}__lt": moment + span})
            return q if op == "eq" else ~q
        return Q(**{f"{path}__{LOOKUPS[op]}": moment})

    return Field(name, "datetime", build)


def string_field(name: str, path: str, *, normalize: Callable[[str], str] = str.strip) -> Field:
    """A text field compared without regard to case."""

    def build(op: str, value: Any) -> Q:
        if value is None:
            q = Q(**{path: ""})
            return q if op == "eq" else ~q
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise FilterError(f"{name} takes a value in single quotes.")
        text = normalize(str(value))
        q = Q(**{f"{path}__iexact": text})
        return q if op == "eq" else ~q

    return Field(name, "string", build, ("eq", "ne"))


def related_field(name: str, model: Any, column: str, fk: str, *, exact: bool = False) -> Field:
    """A value held in a related table (a person's email addresses, postal codes): compared
    through a subquery, so `ne` means "has no such value" and rows are never duplicated."""

    def build(op: str, value: Any) -> Q:
        if value is None or isinstance(value, bool):
            raise FilterError(f"{name} takes a value in single quotes.")
        text = str(value).strip()
        lookup = column if exact else f"{column}__iexact"
        ids = model.objects.filter(**{lookup: text.lower() if exact else text}).values(fk)
        q = Q(pk__in=ids)
        return q if op == "eq" else ~q

    return Field(name, "string", build, ("eq", "ne"))


def number_field(name: str, path: str) -> Field:
    def build(op: str, value: Any) -> Q:
        if isinstance(value, str):
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                raise FilterError(f"{name} takes a number.")
        if value is None:
            q = Q(**{f"{path}__isnull": True})
            return q if op == "eq" else ~q
        if isinstance(value, bool):
            raise FilterError(f"{name} takes a number.")
        if op in ("eq", "ne"):
            q = Q(**{path: value})
            return q if op == "eq" else ~q
        return Q(**{f"{path}__{LOOKUPS[op]}": value})

    return Field(name, "number", build)


def custom_field(name: str, build: QBuilder, operators: tuple[str, ...] = ("eq", "ne")) -> Field:
    return Field(name, "string", build, operators)


def to_q(node: Node, fields: dict[str, Field]) -> Q:
    if isinstance(node, BoolOp):
        parts = [to_q(operand, fields) for operand in node.operands]
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined & part) if node.op == "and" else (combined | part)
        return combined
    field = fields.get(node.field)
    if field is None:
        known = ", ".join(sorted(fields)) or "none"
        raise FilterError(f"Cannot filter on '{node.field}'. Filterable fields here: {known}.")
    if node.op not in field.operators:
        raise FilterError(
            f"'{node.field}' can be compared with {', '.join(field.operators)}, not {node.op}."
        )
    return field.build(node.op, node.value)


def filter_q(text: str, fields: dict[str, Field]) -> Q:
    """Parse `text` and build the Q; raises FilterError with a message for the client."""
    return to_q(parse(text), fields)
