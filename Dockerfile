# A first working image: gunicorn serving the archive. The production issue hardens it
# (collectstatic manifest, health check, compose file with PostgreSQL 18).
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
# collectstatic needs no database; a placeholder URL keeps settings from starting one.
RUN DATABASE_URL=postgresql://build/none python manage.py collectstatic --noinput -v0

EXPOSE 8000
# DATABASE_URL should point at a PostgreSQL 18 server with a UTF-8 locale; without it the
# container runs the embedded cluster inside itself (data lost with the container).
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py ingest fixtures && exec gunicorn kzarchive.wsgi --bind 0.0.0.0:8000 --workers 2 --access-logfile -"]
