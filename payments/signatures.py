"""One verifier for the signature scheme Stripe made common, which other providers (the banks
of the bank-transfer rail) copy: a header `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=...]`
where the HMAC is of `"<t>.<raw body>"` keyed with a shared secret.

Both rails call `signature_verify`; each turns `SignatureInvalid` into its own answer (Stripe's
endpoint says 400 to everything, the bank's says 400 for a malformed header and 401 for the
rest). Never reimplemented per rail: one place compares in constant time and bounds the
timestamp both ways (the `stripe` library checks only the past).
"""

import hashlib
import hmac
import time

SCHEME = "v1"
#: Stripe's own default: a signature older than five minutes is a replay; we hold the future to
#: the same bound.
TOLERANCE_SECONDS = 300
#: A header longer than this is not one any provider sends (a timestamp and a few signatures,
#: under 200 characters while a secret rolls): refused unread, before it is split.
HEADER_MAX_CHARS = 1000
#: Unix seconds have 10 digits until the year 2286; 12 are plenty and keep `int()` far from
#: Python's limit on digits (4,300), whose ValueError would otherwise be a 500.
TIMESTAMP_MAX_DIGITS = 12
UNREADABLE = "Unable to extract timestamp and signatures from header"


class SignatureInvalid(Exception):
    """The signature does not hold. `malformed` is True when the header cannot even be read."""

    def __init__(self, message: str, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.malformed = malformed


def signature_compute(payload: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>.<payload>"` keyed with `secret`."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A header that `signature_verify` accepts (for senders: the sandboxes, tests, docs)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},{SCHEME}={signature_compute(payload, secret, timestamp)}"


def _parse(header: str) -> tuple[int, list[str]]:
    """The header's timestamp and `v1` signatures. Raises SignatureInvalid(malformed=True) for
    a header that cannot be read: too long, a part without `=`, no timestamp, or one that is
    not 1 to TIMESTAMP_MAX_DIGITS ASCII digits."""
    if len(header) > HEADER_MAX_CHARS:
        raise SignatureInvalid(f"{UNREADABLE} (longer than {HEADER_MAX_CHARS})", malformed=True)
    timestamp = None
    signatures = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureInvalid(UNREADABLE, malformed=True)
        if key == "t":
            if not (value.isascii() and value.isdigit() and len(value) <= TIMESTAMP_MAX_DIGITS):
                raise SignatureInvalid(UNREADABLE, malformed=True)
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureInvalid(UNREADABLE, malformed=True)
    return timestamp, signatures


def signature_verify(
    *,
    payload: bytes,
    header: str | None,
    secret: str,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check `header` over the raw `payload` with `secret`; return the signed timestamp.

    Raises SignatureInvalid for a missing or unreadable header, no `v1` signature, none that
    matches (another secret, another body), or a timestamp more than `tolerance` seconds in
    the past or in the future. Any one matching `v1` is enough (a provider rolling its secret
    signs with both).
    """
    if not header:
        raise SignatureInvalid("No signature header was provided.")
    if not secret:
        raise SignatureInvalid("No webhook secret is configured for this endpoint.")
    timestamp, signatures = _parse(header)
    if not signatures:
        raise SignatureInvalid(f"No signatures found with expected scheme {SCHEME}")
    expected = signature_compute(payload, secret, timestamp).encode()
    if not any(hmac.compare_digest(expected, given.encode()) for given in signatures):
        raise SignatureInvalid("No signatures found matching the expected signature for payload")
    now = time.time() if now is None else now
    if timestamp < now - tolerance:
        raise SignatureInvalid(f"Timestamp outside the tolerance zone ({timestamp})")
    if timestamp > now + tolerance:
        raise SignatureInvalid(f"Timestamp in the future ({timestamp}).")
    return timestamp
