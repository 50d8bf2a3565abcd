from django.http import HttpRequest

from payments.rails import all_rails


def sandbox(request: HttpRequest) -> dict[str, bool]:
    """`sandbox_mode`: every way of paying on this site is an offline sandbox, so every page may
    say so. Where any rail takes real money, pages say it per way of paying instead."""
    rails = all_rails().values()
    return {
        "sandbox_mode": any(rail.sandbox_in_use() for rail in rails)
        and not any(rail.real_money_in_use() for rail in rails)
    }
