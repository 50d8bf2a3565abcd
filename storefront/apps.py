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

        from storefront import tasks
        from storefront.backoffice import admin as backoffice_admin
        from storefront.shop.mail import mail_owed

        # Said here, not by importing a module for its side effects: the back office's admin
        # on the admin site, and storefront.tasks queuing each owed e-mail, in every process
        # (web, worker, commands).
        backoffice_admin.register(admin.site)
        mail_owed.connect(tasks.mail_queue, dispatch_uid="storefront.tasks.mail_queue")
