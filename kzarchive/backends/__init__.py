"""Database backends whose database is found on the first connection, not at import.

Both wrap django-postgres-extra's backend ("psqlextra" must be in an ENGINE: its
PostgresManager refuses to work otherwise):

- embedded_psqlextra: the embedded PostgreSQL 18 cluster (kzarchive/embedded_db.py),
  started, and its database created, when the first connection is made;
- unset_psqlextra: production settings without DATABASE_URL; any use of the database
  raises ImproperlyConfigured, while what needs none (collectstatic at image build,
  check --deploy) works.
"""
