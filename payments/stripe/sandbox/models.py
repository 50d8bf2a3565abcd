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

    class Meta:
        ordering = ["pk"]
        constraints = [
            # Stripe's idempotency: one original, executed request per key and account (a request
            # refused by validation is not saved against its key, as at Stripe).
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=models.Q(
                    idempotency_key__isnull=False, replayed=False, status_code__lt=400
                ),
                name="sandbox_request_idempotency_key_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status_code}"
