"""`manage.py ensure_local_admin`: an admin login for a developer's machine, never for a server.

With DEBUG on and no superuser yet, it creates `admin` with the password `admin` and says so.
With DEBUG off it refuses (`--if-debug` makes that a quiet no-op instead, for `make run`).
The password is known to everyone who reads the README: that is why it exists only where DEBUG
is on, and why it is made here and never stored in a fixture a server could load.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD = "admin"  # noqa: S105  (local development only: refused unless DEBUG is on)


class Command(BaseCommand):
    help = (
        "Create the local superuser admin/admin when DEBUG is on and there is no superuser. "
        "Refuses when DEBUG is off."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--if-debug",
            action="store_true",
            help="With DEBUG off, do nothing (and succeed) instead of refusing.",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            if options["if_debug"]:
                self.stdout.write("DEBUG is off: no local admin login made.")
                return
            raise CommandError(
                "DEBUG is off: a login with a published password is for local development only. "
                "Create a superuser with `manage.py createsuperuser` instead."
            )
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser exists: no local admin login made.")
            return
        if users.objects.filter(username=USERNAME).exists():
            self.stdout.write(f"A user named {USERNAME} exists: no local admin login made.")
            return
        users.objects.create_superuser(username=USERNAME, email="", password=PASSWORD)
        self.stdout.write(
            self.style.WARNING(
                f"Created the local admin login {USERNAME} / {PASSWORD} for /admin/ "
                "(DEBUG only; change or delete it before this database goes anywhere else)."
            )
        )
