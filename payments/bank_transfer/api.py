"""The bank-transfer rail's JSON API (Django REST framework): the bank's signed deliveries
(`POST /api/webhook/bank/`) and an organisation's balance
(`GET /api/organizations/<inn>/balance/`), for the back office and the merchant's own systems.

The balance is not public. Machines send `Authorization: Bearer <token>`: a user's API token
(`rest_framework.authtoken`: `manage.py drf_create_token <username>`, or the admin's Tokens)
whose user may view organisations, or the site-wide `BANK_API_TOKEN` where that is set (the
first way, kept working), compared in constant time. People use their admin session: the
admin's own rule, asked of the admin (active staff with the
`payments_bank_transfer.view_organisation` permission, or its change permission; a superuser
has both). No credentials or a wrong token: 401; a user the admin refuses: 403. An INN we have
never been paid from: 404.
"""

from django.contrib import admin
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from payments.bank_transfer import webhook
from payments.bank_transfer.models import Organisation
from payments.signatures import TOLERANCE_SECONDS
from payments.views import notification
from sitewide.api import SITE_TOKEN, BearerTokenAuthentication, ErrorSerializer, error_responses
from sitewide.api_errors import error_body

VIEW_PERMISSIONS = (
    "payments_bank_transfer.view_organisation",
    "payments_bank_transfer.change_organisation",
)


class MayViewBalances(BasePermission):
    """The site's token; a token's user who may view organisations; or the admin's own rule
    for a session (staff who may view organisations)."""

    message = "You may not see organisations' balances."

    def has_permission(self, request, view) -> bool:
        if request.auth == SITE_TOKEN:
            return True
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if isinstance(request.successful_authenticator, TokenAuthentication):
            return user.is_active and any(user.has_perm(name) for name in VIEW_PERMISSIONS)
        model_admin = admin.site.get_model_admin(Organisation)
        return admin.site.has_permission(request) and model_admin.has_view_permission(request)


class BalanceSerializer(serializers.Serializer):
    inn = serializers.CharField(help_text="The organisation's INN.")
    balance = serializers.IntegerField(help_text="Minor units (kopecks) held for it.")
    currency = serializers.CharField(help_text="The balance's currency (the bank account's).")


@method_decorator(never_cache, name="dispatch")
class OrganisationBalanceView(APIView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [MayViewBalances]

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated(
                "Sign in as staff or send Authorization: Bearer <token>."
            )
        super().permission_denied(request, message, code)

    @extend_schema(
        operation_id="organisation_balance",
        tags=["bank transfer"],
        summary="An organisation's balance",
        description="What the organisation with this INN has paid by transfer and not yet "
        "spent on orders. `Authorization: Bearer <token>`: a user's API token (`manage.py "
        "drf_create_token <username>`; the user needs the `view_organisation` permission) or "
        "`BANK_API_TOKEN`; or a staff session in the browser.",
        responses={
            200: BalanceSerializer,
            **error_responses(
                e401="No credentials, or a token that is not valid.",
                e403="The user may not view organisations.",
                e404="No transfer from this INN was ever received.",
            ),
        },
        examples=[
            OpenApiExample(
                "A balance",
                value={"inn": "1234567894", "balance": 145000, "currency": "RUB"},
                response_only=True,
            )
        ],
    )
    def get(self, request, inn: str) -> Response:
        organisation = Organisation.objects.filter(inn=inn).first()
        if organisation is None:
            return Response(error_body(f"No organisation with INN {inn}."), status=404)
        return Response(
            {
                "inn": organisation.inn,
                "balance": organisation.balance,
                "currency": organisation.currency,
            }
        )


class NotificationAnswerSerializer(serializers.Serializer):
    received = serializers.BooleanField(help_text="Always true: the delivery is recorded.")
    event = serializers.CharField(help_text="The delivery's operation_id.")
    outcome = serializers.CharField(
        help_text="`processed` (credited, and any order it quotes settled), `duplicate` (the "
        "same operation again: nothing changed)."
    )


SIGNATURE_HOW = (
    f"`t=<unix seconds>,v1=<hex HMAC-SHA256>`: the HMAC, keyed with the shop's "
    f"BANK_WEBHOOK_SECRET (the sandbox's `bank_sandbox_secret` where none is set and the "
    f'sandbox is on, as under `make run`), of `"<t>.<raw body>"`: the timestamp, a dot, and the '
    f"exact bytes posted. Within {TOLERANCE_SECONDS} s of the shop's clock either way; several "
    f"`v1=` may be given (any one matching is enough, for rolling a secret)."
)


class BankWebhookView(APIView):
    """The bank's deliveries, answered by the payments core (payments.views.notification):
    the signature is checked on the raw bytes before anything parses them, so no DRF parser
    and no authentication class here; the rail's `notification_read` does all of it."""

    authentication_classes = []
    permission_classes = []
    parser_classes = []

    @extend_schema(
        operation_id="bank_webhook",
        summary="A bank's notification of an incoming transfer",
        description="Credits the payer's organisation (created on its first transfer) once per "
        "`operation_id`, and pays an open order whose payment reference the `document_number` "
        "quotes when the balance covers it. Signed: see `X-Bank-Signature`. Every refusal is "
        "recorded as a rejected webhook event and changes nothing else.",
        request={"application/json": webhook.TransferSerializer},
        tags=["bank transfer"],
        parameters=[
            OpenApiParameter(
                webhook.SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description=SIGNATURE_HOW,
            )
        ],
        responses={
            200: NotificationAnswerSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="The body is not JSON, over 64 KB, names a key twice, or a field is "
                "missing or malformed (`fields` names each); or the signature header cannot be "
                "read.",
            ),
            **error_responses(
                e401="The signature is missing, wrong or outside the time tolerance.",
                e403="The sender's address is not in BANK_WEBHOOK_ALLOWED_IPS.",
                e409="This operation_id was received before with other content: nothing "
                "changed (recorded for the merchant).",
            ),
        },
        examples=[
            OpenApiExample(
                "A transfer",
                value={
                    "operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a",
                    "amount": 145000,
                    "payer_inn": "1234567894",
                    "document_number": "PAY-328 INV-5",
                    "document_date": "2024-04-27T21:00:00Z",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request, rail: str, account: str):
        return notification(request._request, rail=rail, account=account)
