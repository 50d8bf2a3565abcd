"""`manage.py bank_sandbox transfer|curl --inn ... --amount ... [--reference INV-5]`: the
sandbox bank posts a signed delivery to this shop (transfer), or prints the curl line that
would (curl), e.g. to replay a delivery by hand. The shop is at SHOP_URL unless `--url` says
otherwise, as for every sandbox command (payments.shop_address)."""

from django.core.management.base import BaseCommand, CommandError

from payments.bank_transfer import sandbox
from payments.errors import PaymentError
from payments.shop_address import shop_origin


class Command(BaseCommand):
    help = "Send (or print as curl) a signed bank-transfer notification to this shop."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["transfer", "curl"])
        parser.add_argument("--inn", required=True, help="The payer's INN (10 or 12 digits).")
        parser.add_argument("--amount", required=True, type=int, help="Minor units (kopecks).")
        parser.add_argument("--reference", default="", help="The payment reference, e.g. INV-5.")
        parser.add_argument("--operation-id", default=None, help="Reuse an id (a replay).")
        parser.add_argument(
            "--url",
            default=None,
            help=f"The shop's base URL (default: SHOP_URL, now {shop_origin()}).",
        )

    def handle(self, *args, **options) -> None:
        options["url"] = options["url"] or shop_origin()
        body = sandbox.delivery_body(
            inn=options["inn"],
            amount=options["amount"],
            reference=options["reference"],
            operation_id=options["operation_id"],
        )
        try:
            if options["action"] == "curl":
                self.stdout.write(sandbox.delivery_curl(body, base_url=options["url"]))
                return
            status, answer = sandbox.delivery_post(body, base_url=options["url"])
        except PaymentError as exc:
            raise CommandError(exc.message) from exc
        except OSError as exc:
            raise CommandError(f"The shop at {options['url']} did not answer: {exc}") from exc
        self.stdout.write(f"{status} {answer}")
        if status != 200:
            raise CommandError(f"The shop answered {status}.")
