"""Reading a bank's delivery: authenticate it, then validate its body into a `Transfer`.

Everything a sender controls is refused here with a 4xx that names what is wrong, before
anything is stored beyond the core's bounded rejection record: a body too large, an address
not allowed, a signature that does not hold (401; 400 when the header cannot be read), a body
that is not UTF-8 JSON or repeats a key, and each field that is missing, of another type or
malformed (400, each field named: `TransferSerializer`, DRF's, which the schema also shows).

What the bank cannot change is not refused: the bank is the authority on money it received.
An INN of the right shape whose check digits fail is read (and flagged on the organisation and
the operation by `ledger`); an amount sent as a JSON string of digits is read as the number.
"""

import datetime
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from stdnum.ru import inn as inn_number

from payments.bank_transfer import config
from payments.errors import NotificationRejected
from payments.signatures import SignatureInvalid, signature_verify

SIGNATURE_HEADER = "X-Bank-Signature"
#: A bank's notification is a few hundred bytes; anything near this is not one.
MAX_BODY_BYTES = 64 * 1024
#: Far above any real transfer, far below what a BIGINT column holds (a balance must add up).
MAX_AMOUNT = 10**15
_DIGITS = re.compile(r"[0-9]{10}|[0-9]{12}")
#: An amount written as a JSON string: ASCII digits, perhaps a decimal part ("145000.00").
_AMOUNT_TEXT = re.compile(r"[0-9]{1,40}(?:\.[0-9]{1,40})?")
#: The document dates we store: any database's DATETIME holds them, and a bank's are inside.
EARLIEST_DATE = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
LATEST_DATE = datetime.datetime(9998, 12, 31, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Transfer:
    """One incoming transfer, validated."""

    operation_id: uuid.UUID
    amount: int  # minor units of `currency`
    currency: str
    payer_inn: str
    document_number: str
    document_date: datetime.datetime
    #: False when the INN's check digits fail (it is still read: see the module's docstring).
    inn_checksum_valid: bool = True

    @property
    def fingerprint(self) -> str:
        """A digest of what the bank said, in a canonical form (key order and spacing do not
        matter): the same operation id with another fingerprint is a conflict."""
        canonical = json.dumps(
            {
                "operation_id": str(self.operation_id),
                "amount": self.amount,
                "currency": self.currency,
                "payer_inn": self.payer_inn,
                "document_number": self.document_number,
                "document_date": self.document_date.isoformat(),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _refuse(message: str, *, account: str, status: int = 400) -> NotificationRejected:
    return NotificationRejected(message, account=account, status=status)


def body_read(request: HttpRequest, *, account: str) -> bytes:
    """The raw body, refused (400) when larger than MAX_BODY_BYTES, read or announced."""
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        announced = 0
    if announced > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        raise _refuse(f"The body is larger than {MAX_BODY_BYTES} bytes.", account=account)
    return request.body


def sender_check(request: HttpRequest, *, account: str) -> None:
    """Refuse (403) an address outside BANK_WEBHOOK_ALLOWED_IPS, when that is set."""
    allowed = config.allowed_ips()
    if allowed and request.META.get("REMOTE_ADDR", "") not in allowed:
        raise _refuse(
            f"The address {request.META.get('REMOTE_ADDR', '')} may not post here.",
            account=account,
            status=403,
        )


def signature_check(request: HttpRequest, body: bytes, *, account: str) -> None:
    """The `X-Bank-Signature` over the raw body with the rail's secret (payments.signatures)."""
    try:
        signature_verify(
            payload=body,
            header=request.headers.get(SIGNATURE_HEADER),
            secret=config.webhook_secret(),
        )
    except SignatureInvalid as exc:
        raise _refuse(exc.message, account=account, status=400 if exc.malformed else 401) from exc


def _text(value: object) -> str:
    """A JSON string any database stores: no NUL, no lone surrogate."""
    if not isinstance(value, str):
        raise serializers.ValidationError("must be a string.")
    if "\x00" in value:
        raise serializers.ValidationError("must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (`"\ud800"`): no database stores it
        raise serializers.ValidationError("must be valid Unicode text.") from None
    return value


class _Text(serializers.Field):
    """A JSON string, strictly (DRF's CharField would take 328 as "328")."""

    def to_internal_value(self, data: object) -> str:
        return _text(data)

    def to_representation(self, value: object) -> str:
        return str(value)


@extend_schema_field({"type": "string", "format": "uuid"})
class _OperationId(_Text):
    def to_internal_value(self, data: object) -> uuid.UUID:
        try:
            return uuid.UUID(_text(data))
        except ValueError:
            raise serializers.ValidationError("must be a UUID.") from None


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT},
            {"type": "string", "pattern": "^[0-9]{1,16}$"},
        ]
    }
)
class _Amount(serializers.Field):
    """A whole number of minor units, 1 to MAX_AMOUNT: a JSON number, or a JSON string of
    digits ("145000"), read as that number. Numbers arrive as Decimal (`transfer_read`), so
    neither a float's rounding nor Python's int digit limit comes into it."""

    def to_internal_value(self, data: object) -> int:
        value = data
        if isinstance(value, str) and _AMOUNT_TEXT.fullmatch(value):
            value = Decimal(value)
        # bool is an int in Python, not in JSON: `true` is not an amount.
        if type(value) is not Decimal:
            raise serializers.ValidationError(
                "must be a positive whole number of minor units (a number, or a string of digits)."
            )
        if value != value.to_integral_value():
            raise serializers.ValidationError(
                "must be a whole number of minor units, not a fraction."
            )
        if not 0 < value <= MAX_AMOUNT:
            raise serializers.ValidationError(
                f"must be a positive integer (minor units) of at most {MAX_AMOUNT}."
            )
        return int(value)

    def to_representation(self, value: object) -> int:
        return int(value)


@extend_schema_field({"type": "string", "pattern": "^([0-9]{10}|[0-9]{12})$"})
class _Inn(_Text):
    """A 10- or 12-digit INN exactly as sent. Only the shape is refused: the digits are what
    the payer's bank holds, and money that arrived must be booked whatever they say (the
    check digits are read by `transfer_read`). stdnum's validator strips spaces before
    checking, so the shape is checked on the raw value first."""

    def to_internal_value(self, data: object) -> str:
        value = _text(data)
        if not _DIGITS.fullmatch(value) or not value.strip("0"):
            raise serializers.ValidationError("must be an INN: 10 or 12 digits.")
        return value


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 255})
class _DocumentNumber(_Text):
    def to_internal_value(self, data: object) -> str:
        value = _text(data).strip()
        if not value or len(value) > 255:
            raise serializers.ValidationError("must be 1 to 255 characters.")
        return value


@extend_schema_field({"type": "string", "format": "date-time"})
class _DocumentDate(_Text):
    def to_internal_value(self, data: object) -> datetime.datetime:
        value = _text(data)
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise serializers.ValidationError("must be an ISO 8601 date and time.") from None
        if parsed.utcoffset() is None:
            raise serializers.ValidationError("must say its time zone (e.g. Z).")
        try:
            moment = parsed.astimezone(datetime.UTC)
        except OverflowError:  # 9999-12-31T23:59:59-23:59 is past the year 9999 in UTC
            moment = None
        if moment is None or not EARLIEST_DATE <= moment <= LATEST_DATE:
            raise serializers.ValidationError(
                f"must be between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d} (UTC)."
            )
        return moment


@extend_schema_field({"type": "string", "example": "RUB"})
class _Currency(_Text):
    def to_internal_value(self, data: object) -> str:
        expected = config.currency()
        if _text(data).upper() != expected:
            raise serializers.ValidationError(f"must be {expected}, the account's currency.")
        return expected


class TransferSerializer(serializers.Serializer):
    """One incoming transfer as the bank posts it (the body `X-Bank-Signature` signs)."""

    operation_id = _OperationId(help_text="The bank's id of the operation: one per transfer.")
    amount = _Amount(
        help_text=f"Minor units (kopecks), 1 to {MAX_AMOUNT}: a number or a string of digits."
    )
    payer_inn = _Inn(help_text="The payer's INN: 10 or 12 digits (check digits are not refused).")
    document_number = _DocumentNumber(
        help_text="The payment order's number and purpose; quoting a payment reference "
        "(INV-<order>) pays that order from the balance."
    )
    document_date = _DocumentDate(
        help_text="When the bank booked it: ISO 8601 with its time zone, 1900 to 9998 (UTC)."
    )
    currency = _Currency(required=False, help_text="Optional; must be the account's currency.")


def _object_without_repeats(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object, refused when it names a key twice: parsers disagree on which one wins,
    so the bank and the shop could read one body as two transfers."""
    document = {}
    for key, value in pairs:
        if key in document:
            raise _RepeatedKey(key)
        document[key] = value
    return document


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's extension, not JSON's


def _json(text: str, *, account: str) -> object:
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_without_repeats,
            parse_int=Decimal,
            parse_float=Decimal,
            parse_constant=_no_constant,
        )
    except _RepeatedKey as repeated:
        shown = repeated.key if len(repeated.key) <= 40 else repeated.key[:40] + "…"
        raise _refuse(
            f"The body names the key {shown!r} more than once.", account=account
        ) from None
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise _refuse("The body is not JSON.", account=account) from None


def transfer_read(body: bytes, *, account: str) -> Transfer:
    """Validate an authentic body into a Transfer; NotificationRejected(400) names each field."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("The body is not UTF-8 text.", account=account) from None
    if "\x00" in text:
        raise _refuse("The body must not contain NUL bytes.", account=account)
    document = _json(text, account=account)
    if not isinstance(document, dict):
        raise _refuse("The body must be a JSON object.", account=account)
    fields = TransferSerializer(data=document)
    if not fields.is_valid():
        messages = {name: [str(text) for text in texts] for name, texts in fields.errors.items()}
        summary = "; ".join(f"{name}: {texts[0]}" for name, texts in messages.items())
        raise NotificationRejected(summary, account=account, status=400, fields=messages)
    valid = fields.validated_data
    return Transfer(
        operation_id=valid["operation_id"],
        amount=valid["amount"],
        currency=valid.get("currency", config.currency()),
        payer_inn=valid["payer_inn"],
        document_number=valid["document_number"],
        document_date=valid["document_date"],
        inn_checksum_valid=inn_number.is_valid(valid["payer_inn"]),
    )
