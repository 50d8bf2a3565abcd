"""The sandbox's state: Stripe objects it created and every request it answered."""

from django.db import models


class SandboxObject(models.Model):
    """A Stripe object as the sandbox holds it, owned by one (sandbox) account."""

    id = models.CharField(primary_key=True, max_length=255)  # Stripe's id: cs_test_..., pi_...
    account = models.CharField(max_length=64, db_index=True)  # acct_... derived from the key
    object = models.CharField(max_length=64)  # Stripe's object type: "checkout.session", ...
    data = models.JSONField()  # exactly what the API returns for it
    # What the API does not return inline but the sandbox needs (line items, ...).
    private = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.id


class SandboxRequest(models.Model):
    """One API request the sandbox answered: what the tests read to prove routing and cost."""

    account = models.CharField(max_length=64, db_index=True, blank=True)
    # The key's last four characters only, never the key: enough to tell accounts apart by eye.
    key_last4 = models.CharField(max_length=4, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    params = models.JSONField(default=dict)
    # NULL, not "", for "no key": the unique constraint below must ignore keyless requests.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    replayed = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict)
    request_id = models.CharField(max_length=40)
    created = models.DateTimeField(auto_now_add=True)
    # The idempotency key while this is its original, executed request, else NULL (set by
    # save()): a plain unique key over it, which MySQL and MariaDB create too (they have no
    # partial index), ignores every other row.
    original_key = models.CharField(  # noqa: DJ001 (see above)
        max_length=255, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            # Stripe's idempotency: one original, executed request per key and account (a request
            # refused by validation is not saved against its key, as at Stripe).
            models.UniqueConstraint(
                fields=["account", "original_key"], name="sandbox_request_original_key_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status_code}"

    def save(self, *args, **kwargs) -> None:
        original = self.idempotency_key is not None and not self.replayed
        self.original_key = self.idempotency_key if original and self.status_code < 400 else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "original_key"}
        super().save(*args, **kwargs)
