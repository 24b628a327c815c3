FROM python:3.11-slim-bookworm
# WeasyPrint needs Pango and HarfBuzz; psycopg's binary wheel brings its own libpq.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
# Static files live in the image (served by WhiteNoise), not in the var/ volume: an upgraded image brings
# its own, never last version's.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 RCM_VAR_DIR=/app/var STATIC_ROOT=/app/staticfiles
WORKDIR /app
COPY pyproject.toml README.md ./
COPY rcm ./rcm
COPY claims ./claims
COPY denials ./denials
COPY payment_plans ./payment_plans
COPY kpis ./kpis
COPY devdata ./devdata
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput
# The app runs as an unprivileged user; only var/ (uploads, files received, beat's schedule) is writable.
RUN useradd --system --uid 10001 --home-dir /app rcm && mkdir -p /app/var && chown -R rcm /app/var
USER rcm
EXPOSE 8000
CMD ["gunicorn", "rcm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
