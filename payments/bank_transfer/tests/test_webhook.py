"""The bank's webhook through HTTP: what is credited once, what is a duplicate or a conflict,
and everything refused (with a 4xx naming why) without changing a balance."""

import json

import pytest

from payments.bank_transfer.models import BankOperation, LedgerEntry, Organisation
from payments.bank_transfer.tests.bank_tools import INN, INN_12, SECRET, now, post, transfer
from payments.models import ReceivedNotification
from payments.redeliveries import duplicates_counted
from payments.signatures import signature_compute, signature_header

pytestmark = pytest.mark.django_db


def balances() -> dict[str, int]:
    return dict(Organisation.objects.values_list("inn", "balance"))


def business_state():
    return (balances(), BankOperation.objects.count(), LedgerEntry.objects.count())


# --- Credited once ---------------------------------------------------------------------------


def test_a_new_operation_credits_a_new_organisation_with_one_ledger_row(client):
    body = transfer(amount=145000)

    response = post(client, body)

    assert response.status_code == 200
    assert response.json()["outcome"] == "processed"
    assert balances() == {INN: 145000}
    operation = BankOperation.objects.get()
    assert (str(operation.operation_id), operation.amount, operation.document_number) == (
        body["operation_id"],
        145000,
        "PAY-328",
    )
    entry = LedgerEntry.objects.get()
    assert (entry.operation, entry.balance_before, entry.delta, entry.balance_after) == (
        operation,
        0,
        145000,
        145000,
    )
    assert ReceivedNotification.objects.get().rail == "bank_transfer"


def test_a_second_operation_adds_to_the_balance_and_the_ledger_chains(client):
    post(client, transfer(amount=1000))
    post(client, transfer(amount=250, currency="RUB"))

    assert balances() == {INN: 1250}
    rows = list(LedgerEntry.objects.values_list("balance_before", "delta", "balance_after"))
    assert rows == [(0, 1000, 1000), (1000, 250, 1250)]


def test_the_same_operation_again_is_acknowledged_and_changes_nothing(client):
    body = transfer()
    post(client, body)
    # Key order and spacing are not content.
    reordered = json.dumps(dict(reversed(list(body.items())))).encode()

    again = post(client, body)
    again_reordered = post(client, None, raw=reordered)

    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert (again_reordered.status_code, again_reordered.json()["outcome"]) == (200, "duplicate")
    assert balances() == {INN: 145000}
    assert (BankOperation.objects.count(), LedgerEntry.objects.count()) == (1, 1)
    assert duplicates_counted(ReceivedNotification.objects.get()) == 2


@pytest.mark.parametrize(
    "change",
    [{"amount": 999}, {"payer_inn": INN_12}, {"document_number": "PAY-329"},
     {"document_date": "2024-04-28T21:00:00Z"}],
    ids=["amount", "payer_inn", "document_number", "document_date"],
)  # fmt: skip
def test_the_same_operation_saying_something_else_is_a_recorded_409(client, change):
    body = transfer()
    post(client, body)
    before = business_state()

    conflict = post(client, {**body, **change})

    assert conflict.status_code == 409
    assert "received before with other content" in conflict.json()["error"]
    assert business_state() == before
    recorded = ReceivedNotification.objects.get(status="conflict")
    assert (recorded.rail, recorded.event_id) == ("bank_transfer", body["operation_id"])


# --- Authentication --------------------------------------------------------------------------

SIGNATURE_FAILURES = {
    "no header": (dict(header=""), 401),
    "another secret": (dict(secret="someone_else"), 401),
    "only a timestamp": (dict(header=f"t={now()}"), 401),
    "malformed header": (dict(header="nonsense"), 400),
    "timestamp not a number": (dict(header="t=soon,v1=abc"), 400),
    "stale": (dict(timestamp=-301), 401),
    "from the future": (dict(timestamp=+301), 401),
}


@pytest.mark.parametrize("case", list(SIGNATURE_FAILURES))
def test_a_delivery_whose_signature_does_not_hold_is_refused_and_recorded(client, case):
    options, status = SIGNATURE_FAILURES[case]
    options = dict(options)
    if "timestamp" in options:
        options["timestamp"] += now()

    response = post(client, transfer(), **options)

    assert response.status_code == status
    assert response.json()["error"].startswith("Webhook rejected:")
    assert business_state() == ({}, 0, 0)
    record = ReceivedNotification.objects.get()
    assert (record.rail, record.status, record.signature_valid) == (
        "bank_transfer",
        "rejected",
        False,
    )


def test_a_tampered_body_is_refused(client):
    body = transfer(amount=100)
    payload = json.dumps(body).encode()
    header = signature_header(payload, SECRET)

    response = post(client, None, raw=payload.replace(b"100", b"999"), header=header)

    assert response.status_code == 401
    assert balances() == {}


def test_within_tolerance_either_way_is_accepted(client):
    assert post(client, transfer(), timestamp=now() - 290).status_code == 200
    assert post(client, transfer(), timestamp=now() + 290).status_code == 200


def test_any_matching_signature_is_enough_while_a_secret_is_rolled(client):
    body = transfer()
    payload = json.dumps(body).encode()
    t = now()
    old, new = signature_compute(payload, "old", t), signature_compute(payload, SECRET, t)
    header = f"t={t},v1={old},v1={new}"

    assert post(client, None, raw=payload, header=header).status_code == 200


def test_the_address_allow_list(client, settings):
    settings.BANK_WEBHOOK_ALLOWED_IPS = ["10.0.0.5", "10.0.0.6"]

    outside = post(client, transfer(), REMOTE_ADDR="203.0.113.9")
    inside = post(client, transfer(), REMOTE_ADDR="10.0.0.6")

    assert outside.status_code == 403
    assert "203.0.113.9" in outside.json()["error"]
    assert inside.status_code == 200
    assert Organisation.objects.get().balance == 145000


def test_without_a_secret_and_without_the_sandbox_everything_is_refused(client, settings):
    settings.BANK_WEBHOOK_SECRET = ""

    assert post(client, transfer(), secret="anything").status_code == 401
    assert balances() == {}


# --- Validation: 400, naming the field -------------------------------------------------------

INVALID = {
    "missing operation_id": (dict(operation_id=...), "operation_id"),
    "missing amount": (dict(amount=...), "amount"),
    "missing payer_inn": (dict(payer_inn=...), "payer_inn"),
    "missing document_number": (dict(document_number=...), "document_number"),
    "missing document_date": (dict(document_date=...), "document_date"),
    "amount a fraction in a string": (dict(amount="145000.5"), "amount"),
    "amount a signed string": (dict(amount="-145000"), "amount"),
    "amount a string with spaces": (dict(amount=" 145000"), "amount"),
    "amount an empty string": (dict(amount=""), "amount"),
    "amount a string in other digits": (dict(amount="١٤٥٠٠٠"), "amount"),
    "amount a string of words": (dict(amount="a lot"), "amount"),
    "amount a list": (dict(amount=[145000]), "amount"),
    "amount an object": (dict(amount={"value": 145000}), "amount"),
    "amount null": (dict(amount=None), "amount"),
    "amount a tiny fraction": (dict(amount=1.5), "amount"),
    "amount a string beyond any transfer": (dict(amount="9" * 40), "amount"),
    "amount true": (dict(amount=True), "amount"),
    "amount zero": (dict(amount=0), "amount"),
    "amount negative": (dict(amount=-5), "amount"),
    "amount a float": (dict(amount=1450.5), "amount"),
    "amount beyond any transfer": (dict(amount=10**19), "amount"),
    "operation_id not a UUID": (dict(operation_id="op-1"), "operation_id"),
    "operation_id a number": (dict(operation_id=42), "operation_id"),
    "date malformed": (dict(document_date="27.04.2024"), "document_date"),
    "date naive": (dict(document_date="2024-04-27T21:00:00"), "document_date"),
    "date only": (dict(document_date="2024-04-27"), "document_date"),
    "date past 9999 in UTC": (dict(document_date="9999-12-31T23:59:59-23:59"), "document_date"),
    "date before year 1 in UTC": (dict(document_date="0001-01-01T00:00:00+01:00"), "document_date"),
    "date in year 1": (dict(document_date="0001-01-01T00:00:00Z"), "document_date"),
    "date in 9999": (dict(document_date="9999-06-01T00:00:00Z"), "document_date"),
    "date a number": (dict(document_date=20240427), "document_date"),
    "date with NUL": (dict(document_date="2024-04-27T21:00:00Z\u0000"), "document_date"),
    "date huge": (dict(document_date="2024-04-27T21:00:00" + "0" * 50_000 + "Z"), "document_date"),
    "INN too short": (dict(payer_inn="770708389"), "payer_inn"),
    "INN 11 digits": (dict(payer_inn="77070838930"), "payer_inn"),
    "INN with a space": (dict(payer_inn=" 7707083893"), "payer_inn"),
    "INN with an inner space": (dict(payer_inn="7707 083893"), "payer_inn"),
    "INN all zeros": (dict(payer_inn="0000000000"), "payer_inn"),
    "INN a number": (dict(payer_inn=7707083893), "payer_inn"),
    "INN in other digits": (dict(payer_inn="٧٧٠٧٠٨٣٨٩٣"), "payer_inn"),
    "document_number empty": (dict(document_number="  "), "document_number"),
    "document_number a list": (dict(document_number=["PAY-328"]), "document_number"),
    "document_number with NUL": (dict(document_number="PAY\u0000328"), "document_number"),
    "document_number a lone surrogate": (dict(document_number="PAY \ud800"), "document_number"),
    "document_number too long": (dict(document_number="P" * 256), "document_number"),
    "document_number a number": (dict(document_number=328), "document_number"),
    "operation_id null": (dict(operation_id=None), "operation_id"),
    "operation_id huge": (dict(operation_id="a" * 50_000), "operation_id"),
    "INN a lone surrogate": (dict(payer_inn="\ud800"), "payer_inn"),
    "INN huge": (dict(payer_inn="7" * 50_000), "payer_inn"),
    "currency a number": (dict(currency=643), "currency"),
    "currency with NUL": (dict(currency="RUB\u0000"), "currency"),
    "another currency": (dict(currency="USD"), "currency"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_an_invalid_body_is_a_400_naming_the_field(client, case):
    change, field = INVALID[case]

    response = post(client, transfer(**change))

    assert response.status_code == 400
    assert field in response.json()["error"]
    assert business_state() == ({}, 0, 0)


def test_a_12_digit_inn_and_an_offset_date_are_accepted(client):
    response = post(client, transfer(payer_inn=INN_12, document_date="2024-04-28T00:00:00+03:00"))

    assert response.status_code == 200
    assert balances() == {INN_12: 145000}
    assert BankOperation.objects.get().document_date.isoformat() == "2024-04-27T21:00:00+00:00"


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1, 2]", b"", b"\xff\xfe{}", b'{"amount": 1\x00}', b"\x00" * 10,
     b'{"operation_id": "' + b"a" * (1024 * 1024) + b'"}', b"[" * 30_000 + b"]" * 30_000,
     b'{"a": ' * 10_000 + b"1" + b"}" * 10_000, b"NaN", b'{"amount": Infinity}'],
    ids=["not json", "a list", "empty", "not utf-8", "NUL in JSON", "only NULs", "1 MB",
         "nested 30,000 deep", "objects nested 10,000 deep", "NaN", "Infinity"],
)  # fmt: skip
def test_a_bad_body_is_a_400_never_a_500(client, raw):
    response = post(client, None, raw=raw)

    assert response.status_code == 400
    assert business_state() == ({}, 0, 0)
    assert ReceivedNotification.objects.get().status == "rejected"


def test_a_rejected_body_with_nul_bytes_is_kept_readable(client):
    """PostgreSQL refuses NUL in text: the rejection record escapes it (runs on both)."""
    response = post(client, None, raw=b'{"a": "\x00"}', secret="wrong")

    assert response.status_code == 401
    assert ReceivedNotification.objects.get().payload == '{"a": "\\x00"}'


def test_only_post(client):
    assert client.get("/api/webhook/bank/").status_code == 405


def test_no_refusal_leaves_a_failed_row_or_a_500(client):
    """Every refusal above is a bounded rejection record: never the 'failed' row a crash in
    processing leaves (one per retry), never a 500."""
    for change, _field in INVALID.values():
        assert post(client, transfer(**change)).status_code == 400
    assert post(client, transfer(amount=10**40)).status_code == 400

    assert not ReceivedNotification.objects.filter(status="failed").exists()
    assert ReceivedNotification.objects.filter(status="rejected").count() == 1  # one row an hour
    assert business_state() == ({}, 0, 0)


# --- What the bank cannot change is booked, not refused (issue 19) ---------------------------

#: The seed's own example, exactly as its README and schema print it: an INN whose check digit
#: is wrong (the last digit of 1234567890 should be 7).
SEED_EXAMPLE = (
    b'{\n  "operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a",\n  "amount": 145000,\n'
    b'  "payer_inn": "1234567890",\n  "document_number": "PAY-328",\n'
    b'  "document_date": "2024-04-27T21:00:00Z"\n}'
)


def test_the_seed_example_as_written_is_booked_and_its_balance_reads_145000(client, admin_client):
    from payments.bank_transfer.tests.bank_tools import TOKEN

    response = post(client, None, raw=SEED_EXAMPLE)

    assert response.status_code == 200
    assert response.json()["outcome"] == "processed"
    balance = client.get(
        "/api/organizations/1234567890/balance/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )
    assert balance.status_code == 200
    assert balance.json() == {"inn": "1234567890", "balance": 145000, "currency": "RUB"}
    # Flagged for the merchant, on the organisation and the operation, and shown in the admin.
    organisation = Organisation.objects.get()
    operation = BankOperation.objects.get()
    assert "fails its check digits" in organisation.attention_note
    assert "fails its check digits" in operation.attention_note
    flagged = admin_client.get("/admin/payments_bank_transfer/organisation/?flagged=yes")
    assert "1234567890" in flagged.content.decode()
    assert "fails its check digits" in flagged.content.decode()
    operations = admin_client.get("/admin/payments_bank_transfer/bankoperation/?flagged=yes")
    assert "PAY-328" in operations.content.decode()
    assert (
        "1234567890"
        not in admin_client.get(
            "/admin/payments_bank_transfer/organisation/?flagged=no"
        ).content.decode()
    )


def test_a_valid_inn_is_not_flagged(client):
    post(client, transfer())

    assert Organisation.objects.get().attention_note == ""
    assert BankOperation.objects.get().attention_note == ""


def test_a_second_transfer_from_a_flagged_inn_adds_up_and_flags_once(client):
    post(client, transfer(payer_inn="1234567890", amount=100))
    post(client, transfer(payer_inn="1234567890", amount=50))

    organisation = Organisation.objects.get()
    assert organisation.balance == 150
    assert organisation.attention_note.count("fails its check digits") == 1
    assert BankOperation.objects.exclude(attention_note="").count() == 2


@pytest.mark.parametrize(
    ("amount", "read"),
    [("145000", 145000), ("145000.00", 145000), (145000.0, 145000), ("007", 7)],
    ids=["digits", "with zero decimals", "a whole float", "leading zeros"],
)
def test_a_whole_amount_written_as_a_string_or_a_whole_float_is_read_as_the_number(
    client, amount, read
):
    response = post(client, transfer(amount=amount))

    assert response.status_code == 200
    assert balances() == {INN: read}
    assert BankOperation.objects.get().amount == read


def test_the_same_operation_with_its_amount_as_a_string_is_the_same_operation(client):
    body = transfer(amount=145000)
    post(client, body)

    again = post(client, {**body, "amount": "145000"})

    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert balances() == {INN: 145000}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a", "amount": 5, "amount": 7, '
        b'"payer_inn": "7707083893", "document_number": "PAY-1", '
        b'"document_date": "2024-04-27T21:00:00Z"}',
        b'{"operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a", "amount": 5, '
        b'"payer_inn": "7707083893", "payer_inn": "500100732259", "document_number": "PAY-1", '
        b'"document_date": "2024-04-27T21:00:00Z"}',
        b'{"operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a", "amount": 5, '
        b'"payer_inn": "7707083893", "document_number": "PAY-1", '
        b'"document_date": "2024-04-27T21:00:00Z", "extra": {"a": 1, "a": 2}}',
        b'{"amount": 5, "amount": 5}',
    ],
    ids=["amount twice", "payer_inn twice", "a nested key twice", "the same value twice"],
)
def test_a_body_that_names_a_key_twice_is_a_400(client, raw):
    """Issue 20, defect 4: parsers disagree on which repeated key wins."""
    response = post(client, None, raw=raw)

    assert response.status_code == 400
    assert "more than once" in response.json()["error"]
    assert business_state() == ({}, 0, 0)


def test_an_amount_of_thousands_of_digits_is_a_400_not_a_500(client):
    body = json.dumps(transfer(amount=0)).replace('"amount": 0', '"amount": ' + "9" * 5000)

    response = post(client, None, raw=body.encode())

    assert response.status_code == 400
    assert "amount" in response.json()["error"]


# --- The balance bound (issue 19, defect 5) --------------------------------------------------


@pytest.fixture
def nearly_full(client):
    """An organisation whose balance is within 10 kopecks of the bound, its ledger adding up."""
    from payments.bank_transfer.ledger import MAX_BALANCE

    organisation = Organisation.objects.create(inn=INN, currency="RUB", balance=MAX_BALANCE - 10)
    LedgerEntry.objects.create(
        organisation=organisation, balance_before=0, delta=MAX_BALANCE - 10,
        balance_after=MAX_BALANCE - 10,
    )  # fmt: skip
    return organisation


def test_a_credit_past_the_balance_bound_is_recorded_flagged_and_not_added(client, nearly_full):
    from payments.bank_transfer.ledger import MAX_BALANCE
    from payments.bank_transfer.webhook import MAX_AMOUNT

    body = transfer(amount=MAX_AMOUNT)
    responses = [post(client, body) for _ in range(3)]  # the bank retries: nothing more

    assert [response.status_code for response in responses] == [200, 200, 200]
    operation = BankOperation.objects.get()
    assert (operation.amount, operation.credited) == (MAX_AMOUNT, False)
    assert "Not credited" in operation.attention_note
    nearly_full.refresh_from_db()
    assert nearly_full.balance == MAX_BALANCE - 10
    assert "Not credited" in nearly_full.attention_note
    assert LedgerEntry.objects.count() == 1
    assert not ReceivedNotification.objects.filter(status="failed").exists()
    assert duplicates_counted(ReceivedNotification.objects.get()) == 2

    # What still fits is credited, up to the bound exactly.
    assert post(client, transfer(amount=10)).status_code == 200
    nearly_full.refresh_from_db()
    assert nearly_full.balance == MAX_BALANCE


def test_a_400_names_each_wrong_field_in_fields(client):
    response = post(client, transfer(amount=1.5, payer_inn="123", document_date=...))

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"amount", "payer_inn", "document_date"}
    assert response.json()["fields"]["document_date"] == ["This field is required."]
