from django.db import models


class InstalmentPlan(models.Model):
    """A payment created at the sandbox bank, and where the buyer has taken it."""

    token = models.CharField(max_length=64, unique=True)
    store_id = models.CharField(max_length=20)
    order_id = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    parts_count = models.PositiveSmallIntegerField()
    merchant_type = models.CharField(max_length=2)
    products = models.JSONField(default=list)
    response_url = models.URLField(max_length=500)
    redirect_url = models.URLField(max_length=500)
    payment_state = models.CharField(max_length=20, default="CREATED")
    message = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.order_id} ({self.payment_state})"
