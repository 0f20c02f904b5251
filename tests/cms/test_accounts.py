"""Residents' accounts with allauth, with the Django test client against PostgreSQL and Redis
(the rate limits count in the Redis cache): sign-up with the display name and a verified e-mail,
login, logout, password reset, the limits on sign-ups, failed logins and resets, the Wagtail
admin's login through the same login, and the profile page. French first, English under /en/."""

import re
from collections.abc import Iterator
from typing import Any, cast

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from django.test import Client

from cms.models import Profile
from tests.factories import EditorFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Carillon-de-Chartres-2026"
LINK = re.compile(r"https?://testserver(/\S+/)")


@pytest.fixture(autouse=True)
def _empty_rate_limits() -> Iterator[None]:
    """The limits count in the cache (this run's Redis database): start and end with none."""
    cache.clear()
    yield
    cache.clear()


def sign_up(client: Client, email: str, display_name: str = "Marie de la Madeleine") -> Any:
    return client.post(
        "/comptes/signup/",
        {
            "email": email,
            "display_name": display_name,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def verified_user(email: str = "resident@example.org") -> User:
    user = cast(User, UserFactory(email=email, password=PASSWORD))
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def link_in_last_mail() -> str:
    found = LINK.search(mail.outbox[-1].body)
    assert found is not None, mail.outbox[-1].body
    return found.group(1)


def log_in(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post("/comptes/login/", {"login": email, "password": password})


# --- Sign-up, verification, login, logout ------------------------------------------------------


def test_sign_up_page_is_french_and_asks_for_the_display_name(client: Client) -> None:
    html = client.get("/comptes/signup/").content.decode()
    assert '<html lang="fr">' in html
    assert "Créer un compte" in html
    assert 'name="display_name"' in html and 'name="email"' in html
    assert 'name="username"' not in html  # login by e-mail only
    english = client.get("/en/comptes/signup/").content.decode()
    assert '<html lang="en">' in english and "Create an account" in english


def test_sign_up_verify_the_email_then_log_in(client: Client) -> None:
    response = sign_up(client, "Marie@Example.org", display_name="  Marie   de la Madeleine ")
    assert response.status_code == 302
    assert response["Location"] == "/comptes/confirm-email/"
    user = get_user_model().objects.get(email__iexact="marie@example.org")
    assert Profile.objects.get(user=user).display_name == "Marie de la Madeleine"

    # Not verified yet: the login sends a new mail instead of logging in.
    assert len(mail.outbox) == 1
    assert "[Carillon]" in mail.outbox[0].subject
    response = log_in(client, "marie@example.org")
    assert "_auth_user_id" not in client.session

    link = link_in_last_mail()
    assert link.startswith("/comptes/confirm-email/")
    confirm_page = client.get(link)
    assert confirm_page.status_code == 200  # a scanner's GET confirms nothing
    assert not EmailAddress.objects.get(user=user).verified
    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    response = log_in(client, "marie@example.org")
    assert response.status_code == 302 and response["Location"] == "/profil/"
    assert client.session["_auth_user_id"] == str(user.pk)
    profile_page = client.get("/profil/").content.decode()
    assert 'value="Marie de la Madeleine"' in profile_page

    response = client.post("/comptes/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_sign_up_without_a_display_name_is_refused(client: Client) -> None:
    response = sign_up(client, "blank@example.org", display_name="   ")
    assert response.status_code == 200
    assert not get_user_model().objects.filter(email="blank@example.org").exists()
    assert mail.outbox == []


def test_logout_by_get_only_asks_for_confirmation(client: Client) -> None:
    user = verified_user()
    client.force_login(user)
    response = client.get("/comptes/logout/")
    assert response.status_code == 200
    assert client.session["_auth_user_id"] == str(user.pk)


# --- Password reset ----------------------------------------------------------------------------


def test_password_reset_by_mail_link(client: Client) -> None:
    user = verified_user("forgetful@example.org")
    response = client.post("/comptes/password/reset/", {"email": "forgetful@example.org"})
    assert response.status_code == 302
    link = link_in_last_mail()
    assert "/comptes/password/reset/key/" in link
    form_page = client.get(link, follow=True)  # allauth moves the key into the session
    assert form_page.status_code == 200
    new_password = "Une-cloche-neuve-2027"
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)
    assert log_in(client, "forgetful@example.org", new_password).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


# --- Rate limits -------------------------------------------------------------------------------


def test_failed_logins_lock_the_address_even_for_the_right_password(client: Client) -> None:
    user = verified_user("target@example.org")
    for _attempt in range(5):
        response = log_in(client, "target@example.org", "wrong-password")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    response = log_in(client, "target@example.org")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Trop de tentatives de connexion" in response.content.decode()
    # Another address from the same place is not locked by these five.
    other = verified_user("neighbour@example.org")
    assert log_in(Client(), "neighbour@example.org").status_code == 302
    assert user.pk != other.pk


def test_a_correct_login_before_the_limit_logs_in(client: Client) -> None:
    user = verified_user("careful@example.org")
    for _attempt in range(4):
        log_in(client, "careful@example.org", "wrong-password")
    assert log_in(client, "careful@example.org").status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_ups_from_one_address_are_limited(client: Client) -> None:
    for number in range(5):
        assert sign_up(client, f"resident{number}@example.org").status_code == 302
        client.logout()
    response = sign_up(client, "resident5@example.org")
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    assert not get_user_model().objects.filter(email="resident5@example.org").exists()


def test_password_resets_for_one_address_are_limited(client: Client) -> None:
    verified_user("reset@example.org")
    for _attempt in range(3):
        response = client.post("/comptes/password/reset/", {"email": "reset@example.org"})
        assert response.status_code == 302
    response = client.post("/comptes/password/reset/", {"email": "reset@example.org"})
    assert response.status_code == 429
    assert len(mail.outbox) == 3


# --- The admin's login -------------------------------------------------------------------------


def test_the_admin_login_is_the_residents_login(client: Client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/comptes/login/?next=/admin/"
    response = client.get("/admin/login/?next=/admin/pages/")
    assert response.status_code == 302
    assert response["Location"] == "/comptes/login/?next=/admin/pages/"
    assert client.get("/admin/password_reset/").status_code == 404


def test_an_editor_logs_in_through_allauth_into_the_admin(client: Client) -> None:
    editor = EditorFactory(email="editor@example.org", password=PASSWORD)
    EmailAddress.objects.create(user=editor, email=editor.email, verified=True, primary=True)
    response = client.post(
        "/comptes/login/", {"login": "editor@example.org", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_is_throttled_too(client: Client) -> None:
    editor = EditorFactory(email="chief@example.org", password=PASSWORD)
    EmailAddress.objects.create(user=editor, email=editor.email, verified=True, primary=True)
    for _attempt in range(5):
        client.post("/admin/login/", {"username": editor.username, "password": "nope"})
        log_in(client, "chief@example.org", "nope")
    assert log_in(client, "chief@example.org").status_code == 200
    assert client.get("/admin/").status_code == 302


# --- The profile -------------------------------------------------------------------------------


def test_profile_requires_login(client: Client) -> None:
    response = client.get("/profil/")
    assert response.status_code == 302
    assert response["Location"] == "/comptes/login/?next=/profil/"


def test_profile_is_made_on_first_visit_and_saved(client: Client) -> None:
    user = verified_user()
    user.first_name, user.last_name = "Jeanne", "Martin"
    user.save()
    client.force_login(user)
    page = client.get("/profil/").content.decode()
    assert 'value="Jeanne Martin"' in page and "Mon profil" in page
    response = client.post(
        "/profil/",
        {"display_name": "Jeanne M.", "neighbourhood": "Rechèvres", "birth_year": "1990"},
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert (profile.display_name, profile.neighbourhood, profile.birth_year) == (
        "Jeanne M.",
        "Rechèvres",
        1990,
    )
    assert "Votre profil est enregistré" in client.get("/profil/").content.decode()


def test_profile_refuses_an_impossible_year_of_birth(client: Client) -> None:
    user = verified_user()
    client.force_login(user)
    response = client.post("/profil/", {"display_name": "Jeanne", "birth_year": "1850"})
    assert response.status_code == 200
    assert Profile.objects.get(user=user).birth_year is None


def test_profile_never_shows_the_email_as_display_name(client: Client) -> None:
    user = verified_user("private.person@example.org")
    client.force_login(user)
    client.get("/profil/")
    assert "private.person" not in Profile.objects.get(user=user).display_name


def test_profile_in_english(client: Client) -> None:
    client.force_login(verified_user())
    html = client.get("/en/profil/").content.decode()
    assert '<html lang="en">' in html and "My profile" in html


@pytest.mark.parametrize(
    "url",
    ["/comptes/confirm-email/", "/comptes/password/reset/", "/comptes/password/reset/done/"],
)
def test_allauth_pages_are_in_the_site_layout_in_french(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html and 'class="site-header"' in html
    assert "/static/css/pages.css" in html
    assert "<script>" not in html
