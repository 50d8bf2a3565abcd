"""The Django project and the shop.

Its Celery app (storefront.celery) is loaded with Django, as cookiecutter-django does, so a task
queued anywhere goes through it (to the broker, or eagerly without one).
"""

from storefront.celery import app as celery_app

__all__ = ("celery_app",)
