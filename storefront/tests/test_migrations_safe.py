"""Migrations can be applied while the previous release still serves (README, Deploy).

A release is a commit: its models are the migration state its migration files reach (every
migration file is kept unchanged once shipped, so today's files rebuild it). The previous
release's INSERTs name exactly the columns of its models, so a column added since then must be
nullable or have a database default, and no column it writes may be gone, renamed or made NOT
NULL. `.release` names the last release; `make lint` runs django-migration-linter over the
migrations added since then, and these tests hold the same rule on the migration state itself,
where the linter reads SQL text (it misses a dropped default when the same migration also
creates a table: storefront 0003).
"""

import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.db.migrations.loader import MigrationLoader
from django.db.models import NOT_PROVIDED

from storefront.tests.factories import make_item, make_order

REPO = Path(__file__).resolve().parents[2]
RELEASE = (REPO / ".release").read_text().strip()
# Releases whose servers met migrations that broke them (issue 22): the one before
# payments 0005 (Payment.pay_url) and c72369c, before storefront 0003 (Order.email) and
# payments 0006 (Payment.payer_email).
BROKEN_BEFORE = {"before-0005": "2bfd5fb^", "c72369c": "c72369c"}


def _git(*args: str) -> str:
    return subprocess.run(  # noqa: S603 (our own arguments, no shell)
        ["git", *args],  # noqa: S607 (git from PATH, as make lint runs it)
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def release_state(commit: str):
    """The models as the release at `commit` had them (its migration files' state)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    shipped = set()
    for config in apps.get_app_configs():
        folder = Path(config.path) / "migrations"
        if not folder.is_dir():
            continue
        if not folder.is_relative_to(REPO) or not _git("ls-files", str(folder)):
            # Django's own apps and other libraries: pinned, the same in both releases.
            shipped |= {node for node in loader.graph.nodes if node[0] == config.label}
            continue
        listed = _git("ls-tree", "--name-only", commit, f"{folder.relative_to(REPO)}/")
        for path in listed.split():
            name = Path(path).stem
            if name != "__init__" and (config.label, name) in loader.graph.nodes:
                shipped.add((config.label, name))
    return loader.project_state(sorted(shipped), at_end=True)


def current_state():
    return MigrationLoader(None, ignore_no_migrations=True).project_state()


def _tables(state) -> dict[str, tuple[str, dict]]:
    """Each table of `state`'s models: the model's label and its columns' fields, by column
    (what an INSERT names; a model or field renamed over the same table or column is the same
    to the database)."""
    found = {}
    for model in state.apps.get_models(include_auto_created=True):
        label = f"{model._meta.app_label}.{model.__name__}"
        found[model._meta.db_table] = (
            label,
            {field.column: field for field in model._meta.local_concrete_fields},
        )
    return found


def unsafe_changes(old, new) -> list[str]:
    """What the models of state `new` do that a release with the models of `old` could not
    write through: its INSERTs name only its own tables' columns, its UPDATEs may write NULL
    where it allowed NULL."""
    problems = []
    before_tables, tables = _tables(old), _tables(new)
    for table, (label, columns) in tables.items():
        if table not in before_tables:
            continue  # a new table: the previous release never writes it
        before = before_tables[table][1]
        for column, field in columns.items():
            if field.null or field.db_default is not NOT_PROVIDED:
                continue
            if column not in before:
                problems.append(f"{label}.{field.name}: new, NOT NULL, no db_default")
            elif before[column].null:
                problems.append(f"{label}.{field.name}: made NOT NULL")
        problems += [
            f"{label}.{field.name}: gone (renamed or dropped)"
            for column, field in before.items()
            if column not in columns
        ]
    problems += [
        f"{label}: table gone" for table, (label, _) in before_tables.items() if table not in tables
    ]
    return sorted(problems)


def test_the_release_is_a_commit_of_this_history():
    assert _git("cat-file", "-t", RELEASE).strip() == "commit"


def test_nothing_since_the_last_release_breaks_it():
    assert unsafe_changes(release_state(RELEASE), current_state()) == []


@pytest.mark.parametrize("release", sorted(BROKEN_BEFORE))
def test_the_releases_that_broke_would_now_keep_serving(release):
    assert unsafe_changes(release_state(BROKEN_BEFORE[release]), current_state()) == []


def test_the_rule_finds_the_columns_that_broke_the_release():
    # c72369c's models against storefront 0003 and payments 0006 as they shipped.
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    old = graph.make_state(
        nodes=[("storefront", "0002_discount_tax_order_orderitem"),
               ("payments", "0005_payment_pay_url_expires_at")],
        at_end=True,
    )  # fmt: skip
    shipped = graph.make_state(
        nodes=[("storefront", "0003_order_email_and_mail"),
               ("payments", "0006_refunds_disputes_reconcile_runs")],
        at_end=True,
    )  # fmt: skip

    assert unsafe_changes(old, shipped) == [
        "payments.Payment.payer_email: new, NOT NULL, no db_default",
        "storefront.Order.email: new, NOT NULL, no db_default",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("release", sorted(BROKEN_BEFORE))
def test_the_previous_releases_inserts_go_on_after_the_migrations(release):
    """Their models' INSERTs (naming only their columns) into today's tables: a new order, a
    new payment, as their /buy made them."""
    old = release_state(BROKEN_BEFORE[release]).apps
    OldOrder = old.get_model("storefront", "Order")
    OldPayment = old.get_model("payments", "Payment")

    order = OldOrder.objects.create(currency="USD", access_key="k")
    OldPayment.objects.create(
        rail="stripe",
        account="pk_test_usd",
        reference=f"order-{order.pk}",
        provider_ref=f"cs_test_{release}",
        currency="USD",
        amount_expected=500,
    )

    from payments.models import Payment
    from storefront.models import Order

    assert Order.objects.get(pk=order.pk).email == ""
    assert Payment.objects.get(provider_ref=f"cs_test_{release}").payer_email == ""
    assert Payment.objects.get(provider_ref=f"cs_test_{release}").pay_url == ""
    # Today's code writes beside them as before.
    assert make_order((make_item(), 1)).email == ""
