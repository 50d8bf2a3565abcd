"""System checks of the core: the rails this site runs can be loaded."""

from django.conf import settings
from django.core.checks import Error

from payments.rails import Rail


def check_rails(app_configs=None, **kwargs) -> list:
    from django.utils.module_loading import import_string

    problems = []
    names = set()
    for path in settings.PAYMENT_RAILS:
        try:
            rail_class = import_string(path)
        except ImportError as exc:
            problems.append(
                Error(
                    f"PAYMENT_RAILS names {path}, which cannot be imported: {exc}.",
                    id="payments.E010",
                )
            )
            continue
        if not (isinstance(rail_class, type) and issubclass(rail_class, Rail)):
            problems.append(Error(f"{path} is not a payments.rails.Rail.", id="payments.E011"))
        elif rail_class.name in names:
            problems.append(
                Error(
                    f"Two rails in PAYMENT_RAILS are named {rail_class.name!r}.", id="payments.E012"
                )
            )
        else:
            names.add(rail_class.name)
    return problems
