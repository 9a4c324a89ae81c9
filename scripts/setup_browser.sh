#!/usr/bin/env bash
# Debian's Chromium and a Chinese font for the web page's browser tests (playwright drives
# /usr/bin/chromium by executable_path; playwright's own browser download is not reachable
# here). Without a CJK font every Chinese character renders as a box in the screenshots.
# Idempotent: nothing to do when both are present.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
{ command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh | grep -q .; } || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -eq 0 ]; then
    echo "✓ chromium 和中文字体已安装"
    exit 0
fi
echo "→ 安装 ${missing[*]}（浏览器测试用，约 1-2 分钟）…"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
echo "✓ 安装完成：$(chromium --version 2>/dev/null)"
