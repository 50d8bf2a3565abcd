from django.apps import AppConfig
from django.core import checks


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = "Storefront"

    def ready(self) -> None:
        from django.contrib import admin

        # The admin's lists get the screen's width: beside the filters, the navigation sidebar
        # left a 1,280 px screen 630 px for a table (a payment's amount, status and account
        # scrolled out of sight). The home page and the breadcrumbs still lead everywhere.
        admin.site.enable_nav_sidebar = False

        from storefront.plumbing.checks import (
            check_connection_budget,
            check_email,
            check_mysql,
            check_secret_key,
        )

        checks.register(check_secret_key, checks.Tags.security, deploy=True)
        checks.register(check_email, deploy=True)
        checks.register(check_connection_budget, deploy=True)
        checks.register(check_mysql, checks.Tags.database)

        # The back office's admin: Django's autodiscovery finds only an app's own
        # admin.py, and it is storefront/backoffice/admin.py.
        import storefront.backoffice.admin

        # Owed e-mails are queued by storefront.tasks (mail_owed's receiver), in every process.
        import storefront.tasks  # noqa: F401
