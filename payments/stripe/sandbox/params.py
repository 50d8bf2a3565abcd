"""Decode Stripe's form-encoded parameters and check them the way Stripe's API does.

The `stripe` library sends `line_items[0][price_data][currency]=usd`; `decode_form` turns that
back into nested dicts and lists. A schema (`Obj`, `ListOf`, `Str`, ...) then checks the result
and raises `ParamError` with the message, `param` and `code` Stripe would answer with: an unknown
parameter is refused (`parameter_unknown`), a missing one too (`parameter_missing`), an empty
string where a value cannot be unset (`parameter_invalid_empty`), a non-integer where an integer
goes (`parameter_invalid_integer`), a non-number or too many decimal places where a decimal goes
(`Invalid decimal: ...`).
"""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

_KEY_PART = re.compile(r"\[([^\]]*)\]")


class ParamError(Exception):
    """A request Stripe would refuse with a 400 `invalid_request_error`."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def decode_form(body: str) -> dict[str, Any]:
    """Turn `a[b][0][c]=v` pairs into nested dicts; dicts keyed 0..n-1 become lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head] + (_KEY_PART.findall("[" + rest) if rest else [])
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ParamError(f"Invalid parameter: {key}", param=key)
        if parts[-1] == "":  # `expand[]=x`: append-style array
            node.setdefault("__list__", []).append(value)
        else:
            node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if set(node) == {"__list__"}:
        return node["__list__"]
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdecimal() for key in converted):
        indexes = sorted(converted, key=int)
        if [int(i) for i in indexes] == list(range(len(indexes))):
            return [converted[i] for i in indexes]
    return converted


def _path(parent: str, key: str | int) -> str:
    return f"{parent}[{key}]" if parent else str(key)


def _empty_refused(path: str) -> ParamError:
    return ParamError(
        f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' from "
        "your request or supply a non-empty value.",
        param=path,
        code="parameter_invalid_empty",
    )


class Spec:
    """A parameter's type; `parse` returns the typed value or raises ParamError."""

    def parse(self, value: Any, path: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class Str(Spec):
    def __init__(self, max_length: int = 5000, choices: tuple[str, ...] | None = None):
        self.max_length = max_length
        self.choices = choices

    def parse(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise ParamError(f"Invalid string: {value!r}", param=path)
        if value == "":
            raise _empty_refused(path)
        if len(value) > self.max_length:
            raise ParamError(
                f"Invalid string: {value[:20]}...; must be at most {self.max_length} characters",
                param=path,
                code="parameter_invalid_string_too_long",
            )
        if self.choices and value not in self.choices:
            raise ParamError(
                f"Invalid {path}: must be one of {', '.join(self.choices)}", param=path
            )
        return value


class Url(Str):
    def parse(self, value: Any, path: str) -> str:
        value = super().parse(value, path)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ParamError("Not a valid URL", param=path, code="url_invalid")
        return value


# Stripe's check is its own; Django's validator (without its `localhost` exception) refuses
# what Stripe is seen refusing: no dot in the domain, spaces around, a full-width at sign.
_EMAIL = EmailValidator(allowlist=[])


class Email(Str):
    """An e-mail address (`customer_email`, `receipt_email`), refused as Stripe refuses one."""

    def parse(self, value: Any, path: str) -> str:
        value = super().parse(value, path)
        try:
            _EMAIL(value)
        except ValidationError:
            raise ParamError(
                f"Invalid email address: {value}", param=path, code="email_invalid"
            ) from None
        return value


class Int(Spec):
    def __init__(self, minimum: int | None = None, maximum: int | None = None):
        self.minimum = minimum
        self.maximum = maximum

    def parse(self, value: Any, path: str) -> int:
        if value == "":
            raise _empty_refused(path)
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise ParamError(
                f"Invalid integer: {value}", param=path, code="parameter_invalid_integer"
            )
        number = int(value)
        if self.minimum is not None and number < self.minimum:
            raise ParamError(
                f"This value must be greater than or equal to {self.minimum}.", param=path
            )
        if self.maximum is not None and number > self.maximum:
            raise ParamError(
                f"This value must be less than or equal to {self.maximum}.", param=path
            )
        return number


_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)")


class Dec(Spec):
    """A decimal number (`percent_off=12.5`, `percentage=8.875`), parsed to an exact Decimal.

    The `stripe` library sends Decimals, floats and ints as their `str()`; no float ever gets in.
    Like Stripe, the decimal places are counted as written: with `places=2`, `23.0000` is refused
    just as `23.001` is. `minimum_exclusive` makes the minimum a strict bound ("greater than 0").
    """

    def __init__(
        self,
        minimum: Decimal | int | str | None = None,
        maximum: Decimal | int | str | None = None,
        places: int | None = None,
        *,
        minimum_exclusive: bool = False,
    ):
        self.minimum = None if minimum is None else Decimal(str(minimum))
        self.maximum = None if maximum is None else Decimal(str(maximum))
        self.places = places
        self.minimum_exclusive = minimum_exclusive

    def parse(self, value: Any, path: str) -> Decimal:
        if value == "":
            raise _empty_refused(path)
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            raise ParamError(f"Invalid decimal: {value}", param=path)
        number = Decimal(value)
        _, fraction = value.split(".", 1) if "." in value else (value, "")
        if self.places is not None and len(fraction) > self.places:
            raise ParamError(
                f"Invalid decimal: {value}; must contain at maximum {self.places} decimal places.",
                param=path,
            )
        if self.minimum is not None:
            if self.minimum_exclusive and number <= self.minimum:
                raise ParamError(f"This value must be greater than {self.minimum}.", param=path)
            if number < self.minimum:
                raise ParamError(
                    f"This value must be greater than or equal to {self.minimum}.", param=path
                )
        if self.maximum is not None and number > self.maximum:
            raise ParamError(
                f"This value must be less than or equal to {self.maximum}.", param=path
            )
        return number


class Bool(Spec):
    def parse(self, value: Any, path: str) -> bool:
        if value not in ("true", "false"):
            raise ParamError(f"Invalid boolean: {value}", param=path)
        return value == "true"


class ListOf(Spec):
    def __init__(self, item: Spec, max_items: int = 100):
        self.item = item
        self.max_items = max_items

    def parse(self, value: Any, path: str) -> list:
        if not isinstance(value, list):
            raise ParamError(f"Invalid array: {path}", param=path)
        if len(value) > self.max_items:
            raise ParamError(f"{path} may have at most {self.max_items} items", param=path)
        return [self.item.parse(item, _path(path, i)) for i, item in enumerate(value)]


class Metadata(Spec):
    """Stripe's metadata: up to 50 keys of at most 40 characters, values of at most 500."""

    def parse(self, value: Any, path: str) -> dict[str, str]:
        if not isinstance(value, dict):
            raise ParamError(f"Invalid object: {path}", param=path)
        if len(value) > 50:
            raise ParamError("Metadata can have at most 50 keys.", param=path)
        for key, item in value.items():
            if len(key) > 40:
                raise ParamError(
                    f"Metadata keys can be at most 40 characters long (got {key!r}).",
                    param=_path(path, key),
                )
            if not isinstance(item, str) or len(item) > 500:
                raise ParamError(
                    "Metadata values can be strings of at most 500 characters.",
                    param=_path(path, key),
                )
        return {key: item for key, item in value.items() if item != ""}


class Obj(Spec):
    """A hash of named parameters; `required` names must be present.

    `check` runs after the fields parse, for rules that tie fields together.
    """

    def __init__(
        self,
        fields: dict[str, Spec],
        required: tuple[str, ...] = (),
        check: Callable[[dict[str, Any], str], None] | None = None,
    ):
        self.fields = fields
        self.required = required
        self.check = check

    def parse(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ParamError(f"Invalid object: {path or 'request'}", param=path or None)
        for key in value:
            if key not in self.fields:
                full = _path(path, key)
                raise ParamError(
                    f"Received unknown parameter: {full}", param=full, code="parameter_unknown"
                )
        for key in self.required:
            if key not in value:
                full = _path(path, key)
                raise ParamError(
                    f"Missing required param: {full}.", param=full, code="parameter_missing"
                )
        parsed = {
            key: self.fields[key].parse(item, _path(path, key)) for key, item in value.items()
        }
        if self.check:
            self.check(parsed, path)
        return parsed


class IntRange(Spec):
    """An integer, or a range of them: `created=1700000000` or `created[gte]=1700000000` (any
    of `gt`, `gte`, `lt`, `lte`). Parsed to a dict of bounds (`{"eq": n}` for an integer)."""

    BOUNDS = Obj({bound: Int() for bound in ("gt", "gte", "lt", "lte")})

    def parse(self, value: Any, path: str) -> dict[str, int]:
        if isinstance(value, dict):
            return self.BOUNDS.parse(value, path)
        return {"eq": Int().parse(value, path)}
