# One image for the web and worker services (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    KBQA_DATA_DIR=/data

# llama-cpp-python compiles from source, for AVX2 rather than the build machine's CPU (see
# README, "Models"); python-ldap compiles against OpenLDAP's and Cyrus SASL's headers (the -dev
# packages bring the libraries it then runs on).
ENV CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake libldap2-dev libsasl2-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-llm.txt ./
# Point PIP_EXTRA_INDEX_URL at a PyTorch CPU wheel index (or a local mirror) so torch==2.13.0
# resolves to the CPU build instead of the multi-GB CUDA one.
ARG PIP_EXTRA_INDEX_URL=""
RUN pip install --no-cache-dir -r requirements.txt -r requirements-llm.txt

COPY . .
# A throw-away key for this build step only: the local settings would otherwise generate the
# instance's key into the image. Production settings take theirs from the environment.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_SETTINGS_MODULE=kbqa.settings.local \
    python manage.py collectstatic --noinput

# gunicorn as bin/start runs it (kbqa/gunicorn.conf.py: KBQA_WEB_WORKERS, KBQA_WEB_THREADS, ...).
ENV KBQA_BIND=0.0.0.0:8000
EXPOSE 8000
CMD ["gunicorn", "--config", "kbqa/gunicorn.conf.py"]
