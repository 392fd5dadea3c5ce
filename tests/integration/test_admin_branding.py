"""The admin carries the archive's name, in Russian and English, and its login page one <h1>.

/admin/ has no language prefix, so LocaleMiddleware always serves it in Russian (the
default); the English admin is the same views with English active, as under /en/."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, User
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db

NAMES = {
    "ru": ("Архив российско-казахстанских заявлений", "Администрирование kzarchive", "Работа с архивом"),
    "en": ("Russia–Kazakhstan statements archive", "kzarchive administration", "Curation of the archive"),
}


def rendered(view, user, language):
    request = RequestFactory().get(reverse(f"admin:{view}"))
    request.user = user
    request.session = {}
    with translation.override(language):
        response = getattr(admin.site, view)(request)
        return response.render().content.decode()


def text_of(html):
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style|svg)\b.*?</\1>", "", html, flags=re.S))


def check_login(html, language):
    header, title, _index = NAMES[language]
    assert f'<html lang="{language}"' in html
    h1s = re.findall(r"<h1\b[^>]*>(.*?)</h1>", html, re.S)
    assert len(h1s) == 1 and h1s[0].startswith(header), h1s
    assert re.search(rf"<title>[^<]*{re.escape(title)}</title>", html)
    assert "Django" not in text_of(html)  # no stock branding left
    assert 'name="username"' in html and 'name="password"' in html  # still the stock login form


def test_the_login_page_in_russian(client):
    check_login(client.get(reverse("admin:login")).content.decode(), "ru")


def test_the_login_page_in_english():
    check_login(rendered("login", AnonymousUser(), "en"), "en")


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_admin_index_is_branded(language):
    header, title, index = NAMES[language]
    chief = User.objects.create_superuser("chief", "chief@example.org", "a-long-pass-phrase")
    html = rendered("index", chief, language)
    assert f">{header}</a>" in html
    assert f"<title>{index} | {title}</title>" in html
    assert "Django" not in text_of(html)
