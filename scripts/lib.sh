# Shared by scripts/demo and scripts/test: everything a fresh machine needs, idempotent.
# shellcheck shell=bash
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"

say() { printf '\033[1m[aifactory]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

apt_install() {  # apt_install PKG...: install Debian packages once (apt-get update first)
  command -v apt-get >/dev/null || { say "apt-get not available; install $* by hand"; return 1; }
  if [ ! -f /tmp/.aifactory-apt-updated ]; then as_root apt-get update -qq && touch /tmp/.aifactory-apt-updated; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_bubblewrap() {  # the local executor runs every job in a bubblewrap sandbox (docs/security.md)
  command -v bwrap >/dev/null && return 0
  say "installing bubblewrap (Debian package): the local executor's sandbox"
  apt_install bubblewrap && command -v bwrap >/dev/null
}

ensure_venv() {  # a virtualenv with the project and its dev tools, reinstalled when pyproject.toml changes
  local py=${PYTHON:-python3}
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { say "Python >= 3.11 is required"; exit 1; }
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv in .venv"
    "$py" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && "$py" -m venv "$VENV"; }
  fi
  local stamp="$VENV/.installed" want
  want=$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing aifactory and its dependencies (first run only)"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]"
    echo "$want" >"$stamp"
  fi
}

pg_answers() {  # pg_answers URL: does a PostgreSQL server accept us there?
  "$VENV/bin/python" - "$1" <<'PY' 2>/dev/null
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], connect_args={"connect_timeout": 3})
with engine.connect() as conn:
    conn.execute(text("select 1"))
PY
}

ensure_postgres() {
  # The tests need a PostgreSQL server they may create databases on. Use AIFACTORY_TEST_PG_URL, else the
  # local server on 127.0.0.1:5432 (user postgres, trust), else start a private throwaway cluster.
  local url=${AIFACTORY_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}
  if pg_answers "$url"; then export AIFACTORY_TEST_PG_URL=$url; return 0; fi
  local port=55432 dir=/tmp/aifactory-test-pg
  url="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  if pg_answers "$url"; then export AIFACTORY_TEST_PG_URL=$url; return 0; fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$bin" ]; then say "installing PostgreSQL (Debian package)"; apt_install postgresql || return 1
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1); fi
  say "starting a private PostgreSQL cluster on 127.0.0.1:$port ($dir)"
  local run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
  if [ ! -f "$dir/PG_VERSION" ]; then
    rm -rf "$dir"; mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres "$dir"
    "${run[@]}" "$bin/initdb" -D "$dir" -U postgres -A trust >/dev/null
  fi
  "${run[@]}" "$bin/pg_ctl" -D "$dir" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null
  pg_answers "$url" && export AIFACTORY_TEST_PG_URL=$url
}
