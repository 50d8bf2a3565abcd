from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = "Storefront"

    def ready(self) -> None:
        from payments import fulfilment
        from storefront import checks  # noqa: F401  (registers the system checks)
        from storefront.services import order_mark_paid

        # Payments for "order-<id>" references mark that order paid.
        fulfilment.register("order", order_mark_paid)
