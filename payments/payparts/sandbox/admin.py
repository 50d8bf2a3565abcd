from django.contrib import admin

from payments.payparts.sandbox.models import InstalmentPlan


@admin.register(InstalmentPlan)
class InstalmentPlanAdmin(admin.ModelAdmin):
    """What the sandbox bank holds, read-only: it is the bank's record, not ours."""

    list_display = ["order_id", "amount", "parts_count", "payment_state", "message", "created"]
    list_filter = ["payment_state"]
    search_fields = ["order_id", "token"]

    def get_search_results(self, request, queryset, search_term):
        order_id = request.GET.get("order_id")
        if order_id:
            queryset = queryset.filter(order_id=order_id)
        return super().get_search_results(request, queryset, search_term)

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "order_id" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
