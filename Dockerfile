# One image for the three services; docker-compose.yml picks the service with `command`.
FROM python:3.11-slim

# opencv (under rapidocr-onnxruntime) needs libGL and glib; PyAV and decord bring their own FFmpeg.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

# The CPU build of torch by default; for the gpu profile build with
#   --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY longwatch ./longwatch
COPY perception ./perception
COPY memory_service ./memory_service
COPY reasoner ./reasoner
COPY orchestration ./orchestration
COPY longwatch_cli ./longwatch_cli
RUN pip install .

# Services listen on every interface inside the container; compose publishes them on the host's loopback.
# Hugging Face downloads (gpu profile) land in the shared model volume too.
ENV LONGWATCH_DATA_DIR=/data LONGWATCH_MODEL_CACHE=/models HF_HOME=/models/huggingface \
    LONGWATCH_PERCEPTION_HOST=0.0.0.0 LONGWATCH_MEMORY_HOST=0.0.0.0 LONGWATCH_REASONER_HOST=0.0.0.0
# Named volumes start as a copy of these directories, ownership included: the service user can write them.
RUN mkdir -p /data /models && chown 1000:1000 /data /models
USER 1000:1000
VOLUME ["/data", "/models"]
