# Sourced by the other scripts: makes sure uv exists and the project's environment is in sync.
# Works on a fresh machine that has only Python 3.11+.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_uv() {
    if command -v uv >/dev/null 2>&1; then UV=(uv); return 0; fi
    if python3 -m uv --version >/dev/null 2>&1; then UV=(python3 -m uv); return 0; fi
    if [ -x "$ROOT/.bootstrap/bin/uv" ]; then UV=("$ROOT/.bootstrap/bin/uv"); return 0; fi
    return 1
}

if ! find_uv; then
    echo "bootstrap: installing uv from PyPI" >&2
    python3 -m pip install --quiet uv 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages uv 2>/dev/null \
        || { python3 -m venv "$ROOT/.bootstrap" && "$ROOT/.bootstrap/bin/pip" install --quiet uv; }
    find_uv || { echo "bootstrap: could not install uv" >&2; exit 1; }
fi

"${UV[@]}" sync --frozen --quiet
