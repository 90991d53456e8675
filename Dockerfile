# ShopDesk bot: one image for every replica (polling or webhook, chosen by the environment).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY core ./core
COPY web ./web
COPY shopdesk ./shopdesk
COPY locales ./locales
RUN pip install . && python -c "from bot.i18n import compile_locales; compile_locales()"
RUN useradd --system --home /app shopdesk && chown -R shopdesk /app
USER shopdesk

EXPOSE 8080
# The bot applies migrations at start; replicas starting together wait for one another.
CMD ["python", "-m", "bot", "run"]
