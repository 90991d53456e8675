# ShopDesk bot: one image for every replica (polling or webhook, chosen by the environment).
# Stage 1 builds the wheel (setup.py compiles the catalogs into it); stage 2 installs the
# dependencies in a layer of their own, then the wheel, into root's site-packages. Nothing of the
# sources is left in the image: the bot runs the installed copy, as a user that cannot write it.
# tests/e2e/test_install.py builds and runs the same wheel outside the repository, and reads
# this file for the rules above (no Docker engine in CI).

FROM python:3.11-slim AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in ./
COPY locales ./locales
COPY bot ./bot
COPY core ./core
COPY web ./web
COPY shopdesk ./shopdesk
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Dependencies first: this layer is rebuilt when pyproject.toml changes, not with every code change.
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; print(*tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/pyproject.toml /tmp/requirements.txt
# The code: the wheel alone (its dependencies are already there; pip check proves they match).
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-deps /tmp/dist/*.whl && pip check && rm -rf /tmp/dist
# The bot's user owns only its home, the working directory: the default SQLite database
# (./data/shopdesk.db), console files and matplotlib's cache go there; the code stays root's.
RUN useradd --system --user-group --create-home --home-dir /var/lib/shopdesk \
        --shell /usr/sbin/nologin shopdesk
WORKDIR /var/lib/shopdesk
USER shopdesk

# In a container the HTTP server (intake API, webhook, probes, /metrics) listens on every address.
ENV HTTP_HOST=0.0.0.0 HTTP_PORT=8080
EXPOSE 8080
# /livez is 200 while the process's event loop runs: the right probe for a restart (a database
# outage must not restart every replica). Load balancers use /readyz (database and Redis answer).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HTTP_PORT', '8080') + '/livez', timeout=4)"]
# The bot applies migrations at start; replicas starting together wait for one another.
CMD ["python", "-m", "bot", "run"]
