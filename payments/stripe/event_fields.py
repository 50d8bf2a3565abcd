"""A strict reader of a Stripe event's fields: the one place a signed body's values are checked
before anything is made of them.

A signed event is authentic, but its fields are still whatever the body holds: Stripe's own
are well formed, and anything else (a wrong type, a huge number, a missing key, text a database
refuses) must be a bounded rejection answered 400 (`NotificationRejected`, recorded by
`payments.records.notification_reject`), never an exception deep in the processing (a 500 the
provider retries forever, with a failed row per retry). So the parsers of refund and dispute
events read every field they use through `EventFields`, which either returns a value of the
promised type, within the promised bounds, or refuses the delivery naming the field
(`data.object.amount must be an integer`).

The bounds are Stripe's where it documents them (ids of at most 255 characters, three-letter
currencies, metadata values of at most 500 characters), and otherwise what our columns and
Python hold: amounts below 10^15 minor units (far beyond any Stripe takes, far within a
64-bit column), times between 1970 and the year 3000 (a datetime any time zone can show).
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from payments.errors import NotificationRejected

MAX_MINOR_UNITS = 10**15 - 1
MAX_ID_LENGTH = 255
MAX_TEXT_LENGTH = 5000
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
MAX_METADATA_KEYS = 50
# 3000-01-01T00:00:00Z: later than any time Stripe sends, early enough for any time zone.
MAX_TIMESTAMP = 32503680000

_MISSING = object()


class EventFields:
    """The fields of one object of a verified event (`data` at `path`), read strictly.

    Each reader takes the field's `name`; `required` fields that are absent or null refuse the
    delivery, optional ones read as None. Raises NotificationRejected (for `account`).
    """

    def __init__(self, data: Any, *, account: str, path: str = "data.object") -> None:
        self.account = account
        self.path = path
        if not isinstance(data, Mapping):
            self.refuse(f"{path} must be an object")
        self.data = data

    def refuse(self, reason: str):
        raise NotificationRejected(f"The event's {reason}.", account=self.account)

    def _value(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.refuse(f"{self.path}.{name} is missing")
            return None
        return value

    def _text(self, field: str, value: Any, max_length: int) -> str:
        if not isinstance(value, str):
            self.refuse(f"{field} must be a string")
        if len(value) > max_length:
            self.refuse(f"{field} is longer than {max_length} characters")
        if "\x00" in value:
            self.refuse(f"{field} contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.refuse(f"{field} is not valid Unicode text")
        return value

    def string(
        self, name: str, *, required: bool = False, max_length: int = MAX_TEXT_LENGTH
    ) -> str | None:
        """A string of at most `max_length` characters."""
        value = self._value(name, required)
        if value is None:
            return None
        return self._text(f"{self.path}.{name}", value, max_length)

    def identifier(self, name: str, *, required: bool = False) -> str | None:
        """A Stripe id, or an expanded object's id; empty counts as absent."""
        value = self._value(name, required)
        if isinstance(value, Mapping):
            value = EventFields(value, account=self.account, path=f"{self.path}.{name}").string(
                "id", required=True, max_length=MAX_ID_LENGTH
            )
        elif value is not None:
            value = self._text(f"{self.path}.{name}", value, MAX_ID_LENGTH)
        if not value:
            if required:
                self.refuse(f"{self.path}.{name} is missing")
            return None
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: int = 0,
        maximum: int = MAX_MINOR_UNITS,
    ) -> int | None:
        """A JSON integer (not a boolean, not a fraction) from `minimum` to `maximum`."""
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.refuse(f"{self.path}.{name} must be an integer")
        if not minimum <= value <= maximum:
            self.refuse(f"{self.path}.{name} must be from {minimum} to {maximum}")
        return value

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        value = self._value(name, required)
        if value is not None and not isinstance(value, bool):
            self.refuse(f"{self.path}.{name} must be true or false")
        return value

    def timestamp(self, name: str, *, required: bool = False) -> datetime | None:
        """A Unix time in seconds, as an aware datetime (0 reads as none: Stripe's "not
        applicable", e.g. a dispute's `due_by` where no response is allowed)."""
        value = self.integer(name, required=required, maximum=MAX_TIMESTAMP)
        if not value:
            if required:
                self.refuse(f"{self.path}.{name} is missing")
            return None
        return datetime.fromtimestamp(value, tz=UTC)

    def currency(self, name: str, *, required: bool = True) -> str | None:
        """A three-letter currency code, upper-case."""
        value = self.string(name, required=required, max_length=3)
        if value is None:
            return None
        if not (len(value) == 3 and value.isascii() and value.isalpha()):
            self.refuse(f"{self.path}.{name} must be a three-letter currency code")
        return value.upper()

    def child(self, name: str, *, required: bool = False) -> "EventFields | None":
        """A nested object, read the same way."""
        value = self._value(name, required)
        if value is None:
            return None
        return EventFields(value, account=self.account, path=f"{self.path}.{name}")

    def metadata(self, name: str = "metadata") -> dict[str, str]:
        """Stripe's metadata: string keys and values, within Stripe's limits."""
        found = self.child(name)
        if found is None:
            return {}
        if len(found.data) > MAX_METADATA_KEYS:
            self.refuse(f"{found.path} has more than {MAX_METADATA_KEYS} keys")
        return {
            self._text(f"{found.path} key", key, MAX_METADATA_KEY): found.string(
                key, max_length=MAX_METADATA_VALUE
            )
            or ""
            for key in found.data
        }
