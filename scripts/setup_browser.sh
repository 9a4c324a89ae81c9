#!/usr/bin/env bash
# Debian's Chromium for the web page's browser tests (playwright drives it by executable_path;
# playwright's own browser download is not reachable here). Idempotent: nothing to do when present.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    echo "✓ chromium 已安装"
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "→ 安装 chromium（浏览器测试用，约 1-2 分钟）…"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
echo "✓ chromium 安装完成：$(chromium --version)"
