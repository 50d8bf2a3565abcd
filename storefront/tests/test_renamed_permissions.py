"""Staff who held a renamed model's permissions keep them, under the new names too
(storefront 0007, payments 0014), and the old ones stay for the release still serving."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command


def migrate(*target: str) -> None:
    """As the release step runs it (`manage.py migrate`: its signals rename content types)."""
    call_command("migrate", *target, verbosity=0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("app", "before", "old", "new"),
    [
        ("storefront", "0005_indexes_for_hot_queries", "orderitem", "orderline"),
        ("payments", "0011_refund_status_cancelled_label", "webhookevent", "receivednotification"),
    ],
)
def test_a_group_that_held_the_old_names_holds_the_new_ones(app, before, old, new):
    migrate(app, before)  # the content type is called by the old name again
    try:
        content_type = ContentType.objects.get(app_label=app, model=old)
        Permission.objects.filter(content_type=content_type).delete()  # as the old release had
        held = [
            Permission.objects.create(
                content_type=content_type, codename=f"{action}_{old}", name=f"Can {action} {old}"
            )
            for action in ("change", "view")
        ]
        staff = Group.objects.create(name="staff")
        staff.permissions.set(held)
    finally:
        migrate()

    codenames = set(Group.objects.get(name="staff").permissions.values_list("codename", flat=True))
    assert codenames == {f"change_{new}", f"view_{new}", f"change_{old}", f"view_{old}"}
    assert ContentType.objects.get(app_label=app, model=new)
