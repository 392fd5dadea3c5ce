"""The database of production settings without DATABASE_URL: none.

Importing the settings and running what needs no database (collectstatic at the
image build, check --deploy) work; the first connection raises ImproperlyConfigured,
so migrate, wait_for_database or the first request fails saying what is missing.
"""

from django.core.exceptions import ImproperlyConfigured
from psqlextra.backend.base import DatabaseWrapper as PsqlextraWrapper

MESSAGE = (
    "DJANGO_ENV=production needs DATABASE_URL: the PostgreSQL database's URL, "
    "postgresql://USER:PASSWORD@HOST:5432/NAME (the embedded cluster is for development only)"
)


class DatabaseWrapper(PsqlextraWrapper):
    def get_connection_params(self):
        raise ImproperlyConfigured(MESSAGE)
