#!/usr/bin/env bash
# Debian's PostgreSQL, Redis and HAProxy for the scale-out setup (README「多机部署 / 横向扩展」) and its
# tests, which start their own throwaway servers from these programs (bot/launcher/servers.py).
# Nothing is enabled as a system service. Idempotent: nothing to do when all three are present.
# Not fatal: without them (no package mirror) the scale-out tests are skipped and say why.
set -uo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
missing=()
{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; } || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
if [ ${#missing[@]} -eq 0 ]; then
    echo "✓ PostgreSQL、Redis 和 HAProxy 已安装"
    exit 0
fi
echo "→ 安装 ${missing[*]}（横向扩展及其测试用，约 1 分钟）…"
if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then
    # The packages start system-wide services where systemd runs; we start our own private servers.
    for service in postgresql redis-server haproxy; do
        $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true
    done
    echo "✓ 安装完成"
else
    echo "✗ 未能安装 ${missing[*]}：横向扩展测试将被跳过（可手动 apt-get install ${missing[*]}）" >&2
fi
exit 0
