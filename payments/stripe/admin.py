from django.contrib import admin
from django.utils.html import format_html

from payments.admin import ReadOnlyAdmin, account_label
from payments.stripe.links import object_ref_url
from payments.stripe.models import StripeObjectRef


@admin.register(StripeObjectRef)
class StripeObjectRefAdmin(ReadOnlyAdmin):
    """Coupons and tax rates made at Stripe for our Discounts and Taxes, per account."""

    list_display = ["local_key", "kind", "stripe_link", "account_display", "created"]
    list_filter = ["kind"]
    search_fields = ["=stripe_id", "=local_key"]

    @admin.display(description="Stripe object", ordering="stripe_id")
    def stripe_link(self, obj: StripeObjectRef) -> str:
        url = object_ref_url(obj)
        return format_html('<a href="{}">{}</a>', url, obj.stripe_id) if url else obj.stripe_id

    @admin.display(description="account", ordering="account")
    def account_display(self, obj: StripeObjectRef) -> str:
        return account_label("stripe", obj.account)
