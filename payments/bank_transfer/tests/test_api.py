"""GET /api/organizations/<inn>/balance/: for staff and bearers of BANK_API_TOKEN only."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from payments.bank_transfer.tests.bank_tools import INN, TOKEN, post, transfer

pytestmark = pytest.mark.django_db
URL = f"/api/organizations/{INN}/balance/"


@pytest.fixture
def credited(client):
    assert post(client, transfer(amount=145000)).status_code == 200


def test_a_bearer_of_the_token_reads_the_balance(client, credited):
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response.json() == {"inn": INN, "balance": 145000, "currency": "RUB"}
    assert "no-cache" in response["Cache-Control"]


def staff(username: str, *permissions: str):
    user = get_user_model().objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="payments_bank_transfer", codename__in=permissions
        )
    )
    return user


def test_staff_who_may_view_organisations_read_the_balance(client, credited):
    """The admin's rule (issue 20, defect 9): the model's view permission. This test first
    let any staff user in; that was the defect."""
    client.force_login(staff("clerk", "view_organisation"))

    assert client.get(URL).json()["balance"] == 145000
    assert client.get("/admin/payments_bank_transfer/organisation/").status_code == 200


def test_staff_without_the_permission_get_403_as_in_the_admin(client, credited):
    client.force_login(staff("packer", "view_ledgerentry"))

    response = client.get(URL)

    assert response.status_code == 403
    assert "balance" not in response.json()
    assert client.get("/admin/payments_bank_transfer/organisation/").status_code == 403


def test_a_superuser_reads_the_balance(client, credited):
    client.force_login(get_user_model().objects.create_superuser("boss", password="x"))

    assert client.get(URL).json()["balance"] == 145000


def test_an_inactive_user_with_the_permission_is_refused(client, credited):
    user = staff("gone", "view_organisation")
    user.is_active = False
    user.save()
    client.force_login(user)

    assert client.get(URL).status_code in (401, 403)


def test_an_unknown_inn_is_404(client):
    response = client.get(
        "/api/organizations/500100732259/balance/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer wrong-token", "Bearer ", f"Basic {TOKEN}", TOKEN],
    ids=["none", "wrong token", "empty token", "another scheme", "no scheme"],
)
def test_without_valid_credentials_it_is_401(client, credited, authorization):
    response = client.get(URL, HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401
    assert "balance" not in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_token_is_accepted_when_none_is_configured(client, credited, settings):
    settings.BANK_API_TOKEN = ""

    assert client.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer x").status_code == 401


def test_a_signed_in_buyer_who_is_not_staff_is_403(client, credited):
    client.force_login(get_user_model().objects.create_user("buyer", password="x"))

    assert client.get(URL).status_code == 403


def api_user(username: str, *permissions: str) -> str:
    """A user who is not staff, with `permissions`, and their API token's key."""
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user(username, password="x")
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="payments_bank_transfer", codename__in=permissions
        )
    )
    return Token.objects.create(user=user).key


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_a_users_api_token_reads_the_balance_when_the_user_may_view_organisations(
    client, credited, scheme
):
    key = api_user("erp", "view_organisation")

    response = client.get(URL, HTTP_AUTHORIZATION=f"{scheme} {key}")

    assert response.status_code == 200
    assert response.json() == {"inn": INN, "balance": 145000, "currency": "RUB"}


def test_a_users_api_token_without_the_permission_is_403(client, credited):
    key = api_user("intern", "view_ledgerentry")

    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 403
    assert "balance" not in response.json()


def test_the_token_of_an_inactive_user_is_401(client, credited):
    key = api_user("left", "view_organisation")
    get_user_model().objects.filter(username="left").update(is_active=False)

    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
