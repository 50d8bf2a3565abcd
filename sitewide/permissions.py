"""Permissions that follow a renamed model, for migrations.

Django names a model's permissions after it (`view_orderitem`) and creates those of a new name
after migrating, for nobody; the groups and users that held the old ones would lose the admin
of the renamed model, and the release still serving checks the old names. `permissions_copy`
gives every holder of an old permission the new one as well and leaves the old in place (the
serving release reads it; a later release may drop it).
"""

ACTIONS = ("add", "change", "delete", "view")


def permissions_copy(apps, *, app_label: str, old_model: str, new_model: str, verbose_name: str):
    """In a RunPython after RenameModel: `<action>_<new_model>` for whoever holds
    `<action>_<old_model>`, on the model's content type (renamed along with the model)."""
    content_types = apps.get_model("contenttypes", "ContentType")
    permissions = apps.get_model("auth", "Permission")
    content_type = content_types.objects.filter(
        app_label=app_label, model__in=[new_model, old_model]
    ).first()
    if content_type is None:
        return  # a new database: Django makes the permissions after migrating
    for action in ACTIONS:
        old = permissions.objects.filter(
            content_type=content_type, codename=f"{action}_{old_model}"
        ).first()
        if old is None:
            continue
        new, _ = permissions.objects.get_or_create(
            content_type=content_type,
            codename=f"{action}_{new_model}",
            defaults={"name": f"Can {action} {verbose_name}"},
        )
        new.group_set.add(*old.group_set.all())
        new.user_set.add(*old.user_set.all())
