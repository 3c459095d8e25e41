# syntax=docker/dockerfile:1
# The tfprod image: gateway, controller and the registry init container that feeds the stock
# tensorflow/serving model servers. It holds no TensorFlow, Node.js or jsii (see pyproject extras).
# The base is pinned to an exact patch release; pin it by digest as well where a registry is reachable.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
RUN python -m venv /opt/tfprod
COPY pyproject.toml constraints.txt README.md ./
COPY tfprod ./tfprod
# Every pin comes from constraints.txt: the build resolves nothing.
RUN /opt/tfprod/bin/pip install --no-cache-dir --no-compile -c constraints.txt ".[gateway,cloud]" \
 && /opt/tfprod/bin/pip uninstall --yes pip

# The final stage gets the virtual environment only: no pip cache, sources or build tools.
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 tfprod \
 && useradd --system --uid 10001 --gid tfprod --no-create-home --shell /usr/sbin/nologin tfprod
COPY --from=build /opt/tfprod /opt/tfprod
ENV PATH=/opt/tfprod/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8080
# Kubernetes manifests choose the command: `tfprod gateway ...`, `tfprod controller ...`, or
# `tfprod registry pull ...` in the init container.
LABEL dev.tfprod.commands="gateway registry"
ENTRYPOINT ["tfprod"]
CMD ["--help"]
