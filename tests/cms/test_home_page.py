"""The public site answers in French by default, in English under /en/, with a CSP."""

import pytest
from django.test import Client

from cms.models import HomePage

pytestmark = pytest.mark.django_db


def test_home_page_is_created_by_migrations_and_is_the_site_root() -> None:
    from wagtail.models import Site

    home = HomePage.objects.get()
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk


def test_home_page_speaks_french_by_default(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Regarder et participer" in html
    assert "la télé locale de Chartres" in html


def test_home_page_speaks_english_under_en(client: Client) -> None:
    response = client.get("/en/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Watch and take part" in html


def test_public_pages_send_a_strict_content_security_policy(client: Client) -> None:
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "blob:" in directives["media-src"]
    assert "blob:" in directives["worker-src"]
    assert directives["object-src"] == ["'none'"]


def test_admin_sends_editors_to_the_sites_throttled_login_in_french(client: Client) -> None:
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/comptes/login/?next=/admin/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="password"' in html
    assert "Se connecter" in html or "Connexion" in html
    assert "Content-Security-Policy" in response.headers


def test_unknown_page_is_a_french_404(client: Client) -> None:
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
