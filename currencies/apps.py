from django.apps import AppConfig


class CurrenciesConfig(AppConfig):
    name = "currencies"
    verbose_name = "Currencies"
