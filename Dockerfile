# The archive in production: gunicorn (gunicorn.conf.py) with DJANGO_ENV=production.
# deploy/start.sh is the entrypoint; docker-compose.yml runs it with PostgreSQL 18.
#
#   docker build -t kzarchive .
#   docker run -e SECRET_KEY=… -e ALLOWED_HOSTS=… -e DATABASE_URL=… -p 8000:8000 kzarchive

# Translations are compiled with GNU gettext in a throwaway stage, so the final image
# carries the .mo files without the gettext tools.
FROM python:3.11-slim AS messages
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY locale /locale
RUN find /locale -name '*.po' -exec sh -c 'msgfmt --check -o "${1%.po}.mo" "$1"' _ {} \;

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    LC_ALL=C.UTF-8

WORKDIR /app
RUN useradd --create-home --uid 1000 kzarchive

# Dependencies in their own layer, so code changes don't reinstall them.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=kzarchive:kzarchive . .
COPY --from=messages --chown=kzarchive:kzarchive /locale ./locale
USER kzarchive
# collectstatic needs no database and no real secrets: placeholders for the build only.
# It writes hashed, compressed files that whitenoise serves with a one-year cache.
RUN DJANGO_ENV=production SECRET_KEY=build-only-placeholder-build-only-placeholder-build-only \
    ALLOWED_HOSTS=build python manage.py collectstatic --noinput -v0

ARG KZ_RELEASE=""
ENV DJANGO_ENV=production \
    BIND=0.0.0.0:8000 \
    KZ_RELEASE=${KZ_RELEASE}
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"

EXPOSE 8000
# `all` migrates, ingests fixtures/ and serves; docker-compose.yml splits that into a
# one-shot `setup` service and the `serve` web service.
ENTRYPOINT ["deploy/start.sh"]
CMD ["all"]
