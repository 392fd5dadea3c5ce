"""Local development and tests (any DJANGO_ENV but production): the development key,
local hosts, DEBUG as given, static files straight from their folders, and the
embedded PostgreSQL 18 cluster in .pgdata/ (or KZ_PGDATA) unless DATABASE_URL is set.

The cluster is not started here: its backend (kzarchive/backends/embedded_psqlextra)
starts it, and creates the database, when the first connection is made.
"""

from kzarchive import embedded_db

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, DATABASE_URL, DEBUG, SECRET_KEY, databases, development_key, url_database

PRODUCTION = False

# Local use only: a fixed key is fine on 127.0.0.1; production must set one.
SECRET_KEY = SECRET_KEY or development_key
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost"]

if DATABASE_URL:
    DATABASES = databases(url_database(DATABASE_URL))
else:
    EMBEDDED_DB_DIR = embedded_db.DEFAULT_DATA_DIR
    DATABASES = databases(embedded_db.settings_dict(EMBEDDED_DB_DIR))

# Locally, serve straight from the source folders: no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
