# checkout-monitor's long-running agent, `checkout-monitor serve`, in a container.
#
#   docker build -t checkout-monitor .
#   docker run --rm --init --shm-size=1g -p 9115:9115 \
#     -v "$PWD/config.yaml:/etc/checkout-monitor/config.yaml:ro" \
#     -v "$PWD/monitors:/app/monitors:ro" \
#     -v checkout-monitor-state:/var/lib/checkout-monitor \
#     checkout-monitor
#
# Mount points:
#   /etc/checkout-monitor/config.yaml  the config the default command reads (not in the image)
#   /app/monitors                      the journeys (the image has this repository's; mount your
#                                      own over it; a config's monitors_dir may point elsewhere)
#   /var/lib/checkout-monitor          alert state and the delivery outbox (the image's
#                                      $CHECKOUT_MONITOR_STATE_DIR): mount a volume there so alerts
#                                      survive a new container (no firing alert forgotten, no
#                                      undelivered notification lost); evidence of failures
#                                      (screenshots, traces) goes to its artifacts/ folder
#                                      ($CHECKOUT_MONITOR_ARTIFACTS_DIR)
# Port 9115: /metrics (Prometheus), /healthz (alive), /readyz (browser up, scheduler running).
# No config at hand: `docker run --rm --init -p 9115:9115 checkout-monitor serve --demo
# --listen 0.0.0.0:9115` watches the embedded demo shop. deploy/ runs it with Prometheus and
# Alertmanager (docker-compose.yml) or on Kubernetes (kubernetes/).
#
# --init: Chromium leaves orphaned helper processes that only a real init reaps.
# --shm-size: Chromium keeps shared memory in /dev/shm; Docker's 64 MB default crashes tabs.

# Playwright's image: Ubuntu 24.04, Python 3.12, Chromium and the libraries it needs (in
# /ms-playwright) and the non-root user pwuser (1001). The playwright package installed below is
# pinned to the same version, since each release drives only the browser build it ships with.
ARG PLAYWRIGHT_VERSION=1.58.0
FROM mcr.microsoft.com/playwright/python:v${PLAYWRIGHT_VERSION}-noble
ARG PLAYWRIGHT_VERSION

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CHECKOUT_MONITOR_CONFIG=/etc/checkout-monitor/config.yaml \
    CHECKOUT_MONITOR_STATE_DIR=/var/lib/checkout-monitor \
    CHECKOUT_MONITOR_ARTIFACTS_DIR=/var/lib/checkout-monitor/artifacts

WORKDIR /app

# The package first, so that editing a journey or the example config rebuilds one layer only.
COPY pyproject.toml README.md ./
COPY src ./src
# USER below is numeric so that Kubernetes' runAsNonRoot can verify it: check it is pwuser's.
# The state folder is pwuser's, so a fresh named volume mounted there is writable too (Docker
# copies the folder's owner into an empty volume).
RUN python -m pip install --no-cache-dir "playwright==${PLAYWRIGHT_VERSION}" . \
    && rm -rf /app/src /app/pyproject.toml \
    && mkdir -p /etc/checkout-monitor /var/lib/checkout-monitor \
    && test "$(id -u pwuser):$(id -g pwuser)" = "1001:1001" \
    && chown 1001:1001 /var/lib/checkout-monitor

COPY monitors ./monitors
COPY config.example.yaml ./

# pwuser, by number: on noble, uid 1000 is the base image's "ubuntu" user.
USER 1001:1001

EXPOSE 9115

# Python, not curl: the base image does not promise curl. 200 = the process is alive.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9115/healthz', timeout=4)"]

# 0.0.0.0: the status page's /evidence/ files (screenshots, traces with cookies) answer 403
# until a web config turns basic auth on (--web-config, docs/serve.md); serve warns at start.
CMD ["checkout-monitor", "serve", "--config", "/etc/checkout-monitor/config.yaml", "--listen", "0.0.0.0:9115"]
