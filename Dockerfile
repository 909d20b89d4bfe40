# The API image: slim Python, dependencies in their own layer, non-root, static files
# collected at build time and served by whitenoise.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system app && useradd --system --gid app --home-dir /app --no-create-home app
WORKDIR /app

# Dependencies change less often than code: their layer stays cached across code edits.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY --chown=app:app . .

# collectstatic needs settings but no database or secret: a random key, used once and
# kept nowhere (the image ships no key; DJANGO_SECRET_KEY must come from the runtime).
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput --verbosity 0

USER app
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=2)"]

# Migrations run before gunicorn starts (a no-op when the schema is current).
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn -c gunicorn.conf.py config.wsgi"]
