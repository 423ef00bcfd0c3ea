# Sourced by scripts/test: start the local servers the tests run against when they are down.
need() {
  command -v "$1" >/dev/null || {
    echo "Тестам нужен $2 на 127.0.0.1 (apt-get install $3); либо укажите уже работающий сервер в $4." >&2
    exit 1
  }
}
start_postgres() {
  [[ -n "${TEST_POSTGRES_URL_GIVEN:-}" ]] && return 0
  need pg_isready PostgreSQL postgresql TEST_POSTGRES_URL
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "→ запускаю PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 1; done
    echo "PostgreSQL не запустился на 127.0.0.1:5432" >&2; return 1
  fi
}
start_redis() {
  [[ -n "${TEST_REDIS_URL_GIVEN:-}" ]] && return 0
  need redis-cli Redis redis-server TEST_REDIS_URL
  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    echo "→ запускаю Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && return 0; sleep 1; done
    echo "Redis не запустился на 127.0.0.1:6379" >&2; return 1
  fi
}

need_chromium() {
  # The browser tests drive Debian's chromium through Playwright (no browser download).
  command -v chromium >/dev/null && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "→ устанавливаю chromium для браузерных тестов (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
  fi
  command -v chromium >/dev/null || { echo "Браузерным тестам нужен chromium: sudo apt-get install chromium" >&2; exit 1; }
}
