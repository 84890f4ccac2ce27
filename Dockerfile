# Creatorlink: one image for the tracker; SQLite in /data by default, PostgreSQL via
# TRACKER_DATABASE_URL. Run: docker run -p 8000:8000 -v creatorlink:/data \
#   -e TRACKER_ENV=production -e TRACKER_SECRET_KEY=... -e TRACKER_BASE_URL=https://go.example.com IMAGE
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TRACKER_DATA_DIR=/data
WORKDIR /app
# Dependencies first, exactly as locked and hash-checked (requirements.lock), in their own
# layer; then the app itself without resolving anything again.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY tracker ./tracker
COPY admin ./admin
COPY migrations ./migrations
RUN pip install --no-cache-dir --no-deps . && useradd --system --home /data tracker \
    && mkdir -p /data && chown tracker /data
USER tracker
VOLUME /data
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz')" || exit 1
CMD ["tracker", "serve", "--host", "0.0.0.0", "--port", "8000"]
