#!/usr/bin/env bash
# Make sure the machine services the tests use are up, and the system packages they need are
# installed: PostgreSQL and Redis on 127.0.0.1 (started with this machine's own commands when
# down), the Debian `prometheus` package (real Prometheus for the cross-check) and `chromium`
# (headless browser test of the HTML report).
# Missing pieces are reported, never fatal: tests that need them skip and say why.
set -uo pipefail

apt_updated=0
apt_install() {  # apt_install PACKAGE BINARY
  command -v "$2" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "services: $2 missing and apt-get unavailable (not root?): tests needing it will skip" >&2
    return 0
  fi
  if [ $apt_updated = 0 ]; then
    echo "services: apt-get update ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
    apt_updated=1
  fi
  echo "services: installing Debian package $1 ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1 \
    || echo "services: could not install $1: tests needing it will skip" >&2
}

apt_install prometheus prometheus
apt_install chromium chromium  # the HTML report is tested in a real headless browser

if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "services: starting PostgreSQL ..." >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
fi
if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting Redis ..." >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 || true
fi
exit 0
