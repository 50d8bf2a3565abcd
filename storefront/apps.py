from django.apps import AppConfig
from django.core import checks


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = "Storefront"

    def ready(self) -> None:
        from storefront.checks import (
            check_connection_budget,
            check_email,
            check_mysql,
            check_secret_key,
        )

        checks.register(check_secret_key, checks.Tags.security, deploy=True)
        checks.register(check_email, deploy=True)
        checks.register(check_connection_budget, deploy=True)
        checks.register(check_mysql, checks.Tags.database)
