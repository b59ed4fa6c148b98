# policygate: a small, non-root image that runs `policygate serve /config`.
#
#   docker build -t policygate .
#   docker run --rm -p 8080:8080 --read-only --tmpfs /tmp policygate
#
# /config holds gateway.yaml and the documents it names (the demo sample by default); mount your
# own over it. Nothing is written outside /tmp (metrics snapshots of --workers N), so the root
# filesystem can be read-only. docs/operations.md walks from this image to Kubernetes.

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine engine
COPY grammar grammar
COPY policies policies
COPY policygate policygate
RUN python -m venv /opt/policygate && /opt/policygate/bin/pip install . \
    && find /opt/policygate -name '__pycache__' -prune -exec rm -rf {} + \
    && /opt/policygate/bin/python -m compileall -q /opt/policygate/lib

FROM python:3.12-slim
ENV PATH=/opt/policygate/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /opt/policygate /opt/policygate
COPY samples/demo /config
USER 65532:65532
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9090/health', timeout=2).status != 200)"]
ENTRYPOINT ["policygate", "serve", "/config"]
CMD ["--host", "0.0.0.0"]
