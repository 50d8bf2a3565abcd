from django.http import HttpRequest

from payments.rails import all_rails


def sandbox(request: HttpRequest) -> dict[str, bool]:
    """`sandbox_mode` is true when any rail takes payments in an offline sandbox."""
    return {"sandbox_mode": any(rail.sandbox_in_use() for rail in all_rails().values())}
