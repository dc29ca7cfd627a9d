# One image for the three services and their chroma server; docker-compose.yml picks the service with `command`.
#
# `docker compose build` takes python:3.11-slim and the package index. Where a build reaches neither,
# deploy/offline_image.sh passes another base (BASE_IMAGE: Debian's packages, imported) and fills
# deploy/wheels/ with a wheelhouse, which is then installed from without an index.
ARG BASE_IMAGE=python:3.11-slim

# ---- build: the project and its dependencies in a venv, the only thing the final stage takes
FROM ${BASE_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/longwatch
ENV PATH=/opt/longwatch/bin:$PATH

# Only deploy/wheels/README.md in a user's checkout; offline, the wheelhouse, and then pip takes every
# package from it and asks no index (this stage's own pip.conf: the final stage has none).
COPY deploy/wheels /wheels
RUN if ls /wheels/*.whl >/dev/null 2>&1; then printf '[global]\nno-index = true\nfind-links = /wheels\n' >/etc/pip.conf; fi

# The CPU build of torch by default; for the gpu profile build with
#   --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0

# The dependencies before the code, each its own layer: changing the code then installs only the project.
WORKDIR /src
COPY pyproject.toml README.md ./
RUN python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        >requirements.txt \
    && pip install -r requirements.txt
COPY longwatch ./longwatch
COPY perception ./perception
COPY memory_service ./memory_service
COPY reasoner ./reasoner
COPY orchestration ./orchestration
COPY longwatch_cli ./longwatch_cli
RUN pip install .

# ---- final: the base, the libraries opencv needs, the venv
FROM ${BASE_IMAGE}

# opencv (under rapidocr-onnxruntime) needs libGL and glib; PyAV and decord bring their own FFmpeg.
# The Debian-made base has them already (and its containers may reach no mirror): apt-get only when missing.
RUN if [ "$(dpkg-query -W -f='${Status}\n' libgl1 libglib2.0-0 2>/dev/null | grep -c 'ok installed')" != 2 ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
        && rm -rf /var/lib/apt/lists/*; \
    fi

COPY --from=build /opt/longwatch /opt/longwatch
ENV PATH=/opt/longwatch/bin:$PATH PYTHONUNBUFFERED=1

# Services listen on every interface inside the container; compose publishes them on the host's loopback.
# Hugging Face downloads (gpu profile) land in the shared model volume too.
ENV LONGWATCH_DATA_DIR=/data LONGWATCH_MODEL_CACHE=/models HF_HOME=/models/huggingface \
    LONGWATCH_PERCEPTION_HOST=0.0.0.0 LONGWATCH_MEMORY_HOST=0.0.0.0 LONGWATCH_REASONER_HOST=0.0.0.0
# Named volumes start as a copy of these directories, ownership included: the service user can write them.
# /chroma is the chroma service's, whose named volume starts as a copy of it the same way.
RUN mkdir -p /data /models /chroma && chown 1000:1000 /data /models /chroma
USER 1000:1000
VOLUME ["/data", "/models"]
