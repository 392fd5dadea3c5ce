"""Settings for kzarchive: DJANGO_SETTINGS_MODULE=kzarchive.settings, as everywhere.

    base.py  what every environment shares, read from the environment
    dev.py   local development and tests (the default): the development key, local
             hosts, the embedded PostgreSQL 18 cluster unless DATABASE_URL is set
    prod.py  DJANGO_ENV=production: refuses to start without a strong SECRET_KEY,
             ALLOWED_HOSTS and DEBUG off; HTTPS, HSTS, secure cookies, hashed static
             files; DATABASE_URL required (at the first use of the database)

This package picks dev or prod by DJANGO_ENV, as the single settings module did, so
manage.py, wsgi.py, pytest.ini, bench/ and the tests keep naming kzarchive.settings,
and one variable (already in the Dockerfile and docker-compose.yml) still switches
everything. Naming kzarchive.settings.dev or .prod directly works too when DJANGO_ENV
agrees (this file is imported first either way).

Importing the settings has no side effect: nothing is started, created or connected
(a linter plugin or an IDE may import them). The embedded cluster starts on the first
database connection, in its database backend (kzarchive/backends/embedded_psqlextra),
rather than in manage.py, the tests and runarchive: then every entry point (gunicorn,
bench scripts, subprocesses of the tests) gets it without code of its own.
"""

import os

if os.environ.get("DJANGO_ENV", "development") == "production":
    from .prod import *  # noqa: F403
else:
    from .dev import *  # noqa: F403
