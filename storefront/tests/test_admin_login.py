"""The local admin login `make run` makes: only with DEBUG on, only when there is no superuser."""

import json
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_with_debug_on_it_makes_admin_admin_once(settings, capsys):
    settings.DEBUG = True

    call_command("ensure_local_admin")
    call_command("ensure_local_admin")

    out = capsys.readouterr().out
    assert "Created the local admin login admin / admin" in out
    assert "A superuser exists: no local admin login made." in out
    user = authenticate(username="admin", password="admin")
    assert user is not None and user.is_superuser and user.is_staff
    assert get_user_model().objects.count() == 1


def test_it_leaves_a_shop_with_a_superuser_alone(settings):
    settings.DEBUG = True
    get_user_model().objects.create_superuser("owner", "", "a long secret passphrase")

    call_command("ensure_local_admin")

    assert not get_user_model().objects.filter(username="admin").exists()


def test_it_never_turns_an_existing_admin_user_into_a_superuser(settings):
    settings.DEBUG = True
    get_user_model().objects.create_user("admin", "", "their own password")

    call_command("ensure_local_admin")

    user = get_user_model().objects.get(username="admin")
    assert not user.is_superuser and user.check_password("their own password")


def test_with_debug_off_it_refuses(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("ensure_local_admin")

    assert not get_user_model().objects.exists()


def test_with_debug_off_and_if_debug_it_does_nothing_quietly(settings, capsys):
    settings.DEBUG = False

    call_command("ensure_local_admin", "--if-debug")

    assert "no local admin login made" in capsys.readouterr().out
    assert not get_user_model().objects.exists()


def test_no_fixture_holds_a_user():
    for fixture in FIXTURES.glob("*.json"):
        models = {entry["model"] for entry in json.loads(fixture.read_text())}
        assert not {"auth.user", "auth.group"} & models, fixture
