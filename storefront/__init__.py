"""The Django project and the shop, laid out by concern (docs/architecture.md).

At the top, the project's own files: settings, urls, wsgi, the Celery app (celery), the app's
config (apps), its models (models, where Django looks for them; the domain's), its tasks (tasks)
and management commands. Beneath them, each a package whose docstring says what it owns:
buyer (the buyer's pages and JSON endpoints) and backoffice (the merchant's admin) side by
side; documents (invoices, credit notes, the e-mails sent to buyers); shop (the domain: orders,
prices, settlement, who may see what); plumbing (middleware, logging, health, throttling,
checks). Each layer imports only those below it, and payments only through payments.services
(`make lint`, import-linter's contracts in pyproject.toml).

Its Celery app (storefront.celery) is loaded with Django, as cookiecutter-django does, so a task
queued anywhere goes through it (to the broker, or eagerly without one).
"""

from storefront.celery import app as celery_app

__all__ = ("celery_app",)
