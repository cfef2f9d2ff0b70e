# AutoStack's own image: the `autostack` command and its runtime dependencies, nothing else.
#   docker build -t autostack .
# It runs as UID 10001 with a read-only root filesystem; the only writable paths are /tmp
# (HOME and TMPDIR point there) and /var/lib/autostack (AUTOSTACK_DATA_DIR), both mounted as
# emptyDir volumes by charts/autostack. Kubernetes probes (/healthz, /readyz) replace a HEALTHCHECK.
# PYTHON_IMAGE is any Debian-based image with python3.11 and its venv module (the tests build one
# from Debian's packages, as no registry is reachable there).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/autostack
WORKDIR /src
# Dependencies first, their own layer, so a code change rebuilds only the last steps: exactly
# pyproject's runtime `dependencies` and its `eks` extra (the image runs the kubernetes target),
# held to the versions of the locks (constraints: they pin what is installed but install
# nothing by themselves, so the dev tools stay out).
COPY pyproject.toml requirements.lock requirements-eks.lock ./
RUN python3 -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb')); \
      print(*p['project']['dependencies'], *p['project']['optional-dependencies']['eks'], sep='\n')" \
      > runtime.txt \
 && /opt/autostack/bin/pip install --requirement runtime.txt \
      --constraint requirements.lock --constraint requirements-eks.lock
COPY README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY deployer ./deployer
COPY store ./store
RUN /opt/autostack/bin/pip install --no-deps --constraint requirements.lock --constraint requirements-eks.lock . \
 && /opt/autostack/bin/pip uninstall --yes pip \
 # bytecode now: a read-only root filesystem cannot take __pycache__ at run time
 && /opt/autostack/bin/python -m compileall -q /opt/autostack

FROM ${PYTHON_IMAGE}
RUN groupadd --gid 10001 autostack \
 && useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin autostack \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/autostack
COPY --from=build /opt/autostack /opt/autostack
ENV PATH=/opt/autostack/bin:$PATH \
    HOME=/tmp \
    TMPDIR=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AUTOSTACK_DATA_DIR=/var/lib/autostack \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /var/lib/autostack
USER 10001:10001
EXPOSE 3000
ENTRYPOINT ["autostack"]
CMD ["serve"]
