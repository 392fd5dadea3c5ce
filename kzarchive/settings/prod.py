"""DJANGO_ENV=production: everything `manage.py check --deploy` asks for.

Importing these settings fails with ImproperlyConfigured, saying what to set, when
DEBUG is on, SECRET_KEY is missing or weak, or ALLOWED_HOSTS is empty. A missing
DATABASE_URL fails at the first use of the database instead (the same error, from
kzarchive/backends/unset_psqlextra): collectstatic, at the image build, needs no
database. The embedded cluster is never used here.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, DATABASE_URL, DEBUG, SECRET_KEY, SITE_HTTPS, databases, development_key, url_database

PRODUCTION = True


def weak_secret_key(key: str) -> bool:
    """What check --deploy calls weak (security.W009), or the development key."""
    return len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-") or key == development_key


if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off with DJANGO_ENV=production")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_ENV=production needs SECRET_KEY: 50 or more random characters")
if weak_secret_key(SECRET_KEY):
    raise ImproperlyConfigured(
        "DJANGO_ENV=production needs SECRET_KEY: 50 or more random characters; the one set is weak"
        " (shorter, fewer than 5 different characters, django-insecure-… or the development key)"
    )
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ENV=production needs ALLOWED_HOSTS: the site's host names, comma-separated")

if DATABASE_URL:
    DATABASES = databases(url_database(DATABASE_URL))
else:
    DATABASES = databases({"ENGINE": "kzarchive.backends.unset_psqlextra", "NAME": ""})

# collectstatic (at image build) writes hashed, compressed files: cached for a year.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Without SITE_HTTPS (false): no HTTPS redirect, HSTS or secure-only cookies; check
# --deploy would flag exactly those, so they are silenced, visibly, here.
if SITE_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # TLS ends at the proxy
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
else:
    SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008", "security.W012", "security.W016"]
