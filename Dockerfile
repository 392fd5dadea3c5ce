# The archive served by gunicorn (gunicorn.conf.py) with production settings.
# Still to come: the start-up script, docker-compose.yml with PostgreSQL 18.
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
USER kzarchive
# collectstatic needs no database and no real secrets: placeholders for the build only.
RUN DJANGO_ENV=production SECRET_KEY=build-only-placeholder-build-only-placeholder-build-only \
    ALLOWED_HOSTS=build DATABASE_URL=postgresql://build/none python manage.py collectstatic --noinput -v0

ENV DJANGO_ENV=production
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"

EXPOSE 8000
# DATABASE_URL should point at a PostgreSQL 18 server with a UTF-8 locale; without it the
# container runs the embedded cluster inside itself (data lost with the container).
# SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL come from the environment (docker run -e …).
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py ingest fixtures && exec gunicorn kzarchive.wsgi"]
