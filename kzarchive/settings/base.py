"""Settings every environment shares (dev.py and prod.py start from these).

SECRET_KEY, DEBUG, ALLOWED_HOSTS and DATABASE_URL come from the environment; dev.py
gives the first and third local defaults, prod.py requires them. DATABASES is theirs
too, built with url_database() and databases() below. Nothing here starts, creates or
connects anything.
"""

import datetime as dt
import hashlib
import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


# As given; dev.py fills in local defaults, prod.py refuses to run without them.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
# dev.py's SECRET_KEY when none is set; prod.py refuses it.
development_key = "kzarchive-local-development-key-not-for-production"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.contrib.sitemaps",  # its templates: sitemap.xml, sitemap_index.xml
    "axes",
    "psqlextra",
    # history of every change, kept by triggers (docs/curation.md)
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "transcripts",
]

MIDDLEWARE = [
    "kzarchive.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "transcripts.http_cache.ArchiveCacheMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # an editor's change in the admin is recorded under their name (pghistory context);
    # only for writing methods (below), so that public GETs never read the session
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "kzarchive.middleware.ContentSecurityPolicyMiddleware",
]

PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Admin logins: after 5 failures for one user name from one address, that pair is
# locked for an hour (django-axes); the lockout page says so.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind a balancer REMOTE_ADDR is the balancer: lock the client's own address instead.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "kzarchive.client_ip.client_ip"

ROOT_URLCONF = "kzarchive.urls"
WSGI_APPLICATION = "kzarchive.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "transcripts.context_processors.languages",
            ],
        },
    },
]

# The primary database: DATABASE_URL (dev.py uses the embedded cluster without it,
# prod.py requires it). DATABASES itself is built in dev.py and prod.py.
DATABASE_URL = os.environ.get("DATABASE_URL", "")


def url_database(url: str) -> dict:
    """The DATABASES entry for a DATABASE_URL."""
    # Persistent connections, checked before reuse: after a database restart the first
    # request reconnects instead of failing. A server that does not answer fails in 3 s.
    entry = dj_database_url.parse(
        url,
        engine="psqlextra.backend",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    entry.setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    return entry


DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")


def databases(default: dict) -> dict:
    """DATABASES with this primary, KZ_TEST_DATABASE and DATABASE_REPLICA_URL applied."""
    result = {"default": default}
    if os.environ.get("KZ_TEST_DATABASE"):
        # Lets two test runs share one server (pytest-django's default is test_<NAME>).
        default["TEST"] = {"NAME": os.environ["KZ_TEST_DATABASE"]}
    if DATABASE_REPLICA_URL:
        # A streaming replica: anonymous public pages read from it, everything else uses
        # the primary (kzarchive/routers.py). Connections are kept like the primary's.
        replica = dj_database_url.parse(
            DATABASE_REPLICA_URL,
            engine="psqlextra.backend",
            conn_max_age=default.get("CONN_MAX_AGE", 0),
            conn_health_checks=default.get("CONN_HEALTH_CHECKS", False),
        )
        # A replica that does not answer costs 3 s once, then pages read the primary for a while.
        replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
        replica["TEST"] = {"MIRROR": "default"}
        result["replica"] = replica
    return result


if DATABASE_REPLICA_URL:
    DATABASE_ROUTERS = ["kzarchive.routers.PrimaryReplicaRouter"]
    # Outermost after static files: any middleware that reads the archive (an HTTP cache
    # stamp) must read the same database as the page it stamps.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1, "kzarchive.routers.ReplicaReadsMiddleware"
    )
# psqlextra would otherwise create the hstore extension, which nothing here uses.
POSTGRES_EXTRA_AUTO_EXTENSION_SET_UP = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
# "10 February 2022" in English (Django's default is "Feb. 10, 2022").
FORMAT_MODULE_PATH = ["kzarchive.formats"]
TIME_ZONE = "Europe/Moscow"  # the sources print Moscow times
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

# SITE_HTTPS=false serves production settings over plain HTTP, for a trial on localhost
# without a TLS proxy (prod.py); it changes nothing in development.
SITE_HTTPS = env_bool("SITE_HTTPS", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Sent on every response by kzarchive.middleware: no inline or foreign script anywhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# HTTP caching of public pages (transcripts/http_cache.py): 0 means shared caches and
# browsers revalidate every time (a cheap 304); more lets them reuse a page that long.
ARCHIVE_CACHE_MAX_AGE = int(os.environ.get("KZ_CACHE_MAX_AGE", "0"))
RELEASE = os.environ.get("KZ_RELEASE", "")  # part of every ETag: a deploy invalidates pages
# Rendered public pages, keyed by their ETag. A folder in memory (/dev/shm) shared by a
# host's gunicorn workers; KZ_PAGE_CACHE=off (or a folder path) changes that.
PAGE_CACHE = os.environ.get("KZ_PAGE_CACHE", "")
if PAGE_CACHE == "off":
    _pages = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
else:
    _shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    _project = hashlib.md5(str(BASE_DIR).encode()).hexdigest()[:8]  # one folder per checkout and user
    _folder = PAGE_CACHE or _shm / f"kzarchive-pages-{os.geteuid()}-{_project}"
    _pages = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(_folder),
        "TIMEOUT": 24 * 3600,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "pages": _pages}

# The dates a meeting may have (transcripts/dates.py): ingest and the admin refuse others.
ARCHIVE_FIRST_DATE = dt.date.fromisoformat(os.environ.get("KZ_FIRST_DATE", "1991-01-01"))
ARCHIVE_FUTURE_DAYS = int(os.environ.get("KZ_FUTURE_DAYS", "366"))

# The bulk export (manage.py export) writes its releases here; /data/ serves the latest.
EXPORT_DIR = Path(os.environ.get("KZ_EXPORT_DIR") or BASE_DIR / "exports")
# The archive's public address, for the links in an export (a request gives pages their own).
SITE_URL = os.environ.get("KZ_SITE_URL", "http://127.0.0.1:8000")

# The archive's sample content and speaker directory.
FIXTURES_DIR = BASE_DIR / "fixtures"
SPEAKER_DIRECTORY = FIXTURES_DIR / "speakers.json"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "kzarchive.logging.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"django.request": {"handlers": ["stdout"], "level": "ERROR", "propagate": False}},
}
