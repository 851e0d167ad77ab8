# The Python 3.11 side: the gateway (`python -m server`), the action server
# (`python -m server.action_server`) and the one-off commands (migrations, catalogue import).
# Built from the repository root: docker compose -f deploy/compose.yaml build
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# WeasyPrint (the monthly report's PDF) needs Pango; nothing else is native
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/welcome
COPY requirements/app.lock requirements/app.lock
RUN pip install --no-cache-dir "$(grep -E '^uv==' requirements/app.lock)" \
 && uv pip install --system --no-cache -r requirements/app.lock
COPY . .
RUN uv pip install --system --no-cache --no-deps -e . \
 && useradd --system --uid 10001 --home-dir /srv/welcome welcome \
 && mkdir -p /srv/welcome/var && chown welcome /srv/welcome/var && chmod 700 /srv/welcome/var
USER welcome
EXPOSE 8000 5055
CMD ["python", "-m", "server"]
