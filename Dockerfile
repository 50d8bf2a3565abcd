# The shop in a container: gunicorn serving storefront.wsgi, statics collected at build time.
# Configuration comes from the environment at run time, as on Heroku and Render (see
# docs/deploy.md). Migrations are a separate step, as the Procfile's release step is
# (docker-compose.yml runs it before the web service starts).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PORT=8000 \
    GUNICORN_CMD_ARGS="--worker-tmp-dir /dev/shm"

WORKDIR /app

# mysqlclient (MySQL and MariaDB) has no Linux wheel: it builds against Debian's client headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc pkg-config default-libmysqlclient-dev \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first: this layer is rebuilt only when the pinned requirements change.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY manage.py ./
COPY currencies/ currencies/
COPY payments/ payments/
COPY storefront/ storefront/
COPY templates/ templates/
COPY static/ static/
COPY fixtures/ fixtures/

# Hashed, compressed statics for WhiteNoise, of every app the image can run: the sandboxes
# too, which only some deployments switch on at run time (STRIPE_SANDBOX=1 in
# docker-compose.yml), since a page naming a file missing from the manifest is a 500. No secret
# is needed to collect them; this throwaway key exists for this command only and is not in
# the image.
RUN DEBUG=0 READ_ENV_FILE=0 STRIPE_SANDBOX=1 PAYPARTS_SANDBOX=1 BANK_SANDBOX=1 \
    SECRET_KEY=collectstatic-at-build-time-only-never-used-to-sign-anything-0123456789 \
    python manage.py collectstatic --noinput

# Run as an unprivileged user that owns nothing in /app (its home keeps gunicorn's control
# socket).
RUN useradd --system --create-home --uid 10001 shop
USER shop

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

# The Procfile's web command (the shell expands PORT and the defaults; exec hands signals to
# gunicorn).
CMD ["sh", "-c", "exec gunicorn storefront.wsgi --bind 0.0.0.0:$PORT --workers ${WEB_CONCURRENCY:-2} --threads ${GUNICORN_THREADS:-4} --timeout 60"]
