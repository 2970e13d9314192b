#!/bin/sh
# Run a command (the test suite) with a PostgreSQL server to test the shared store against.
#
#   tools/pg_test_server.sh COMMAND [ARGS...]
#
# The tests need a server with trust auth for the user postgres on loopback (tests/conftest.py).
# The project's machines run Debian's postgresql on 127.0.0.1:5432; when nothing answers on the
# port (OSINTEL_TEST_PG_PORT, default 5432), this installs Debian's `postgresql` if it is missing
# (as `make test` installs chromium) and starts a throwaway cluster: initdb in a temporary
# directory as the user postgres, trust auth, listening on 127.0.0.1 only. COMMAND runs with
# OSINTEL_TEST_PG_SERVER set to the server's URL (no database: the tests make their own); the
# throwaway cluster is stopped and its directory removed when COMMAND ends, whatever its outcome.
# The exit status is COMMAND's.
set -eu

port="${OSINTEL_TEST_PG_PORT:-5432}"
export OSINTEL_TEST_PG_SERVER="postgresql://postgres@127.0.0.1:${port}"

pg_bin() {
    # Debian keeps the server programs per major version; the newest installed one.
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

answers() {
    bin="$(pg_bin)"
    [ -n "$bin" ] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 3
}

if answers; then
    exec "$@"
fi

if [ -z "$(pg_bin)" ]; then
    echo ">> installing Debian's postgresql (no server answers on 127.0.0.1:${port})" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
    if answers; then  # the package started its own cluster on this port
        exec "$@"
    fi
fi
bin="$(pg_bin)"

# As the user postgres when run as root (the server refuses to run as root); else as ourselves.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dir="$(mktemp -d "${TMPDIR:-/tmp}/osintel-pg.XXXXXX")"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() {
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo ">> starting a throwaway PostgreSQL cluster on 127.0.0.1:${port} in ${dir}" >&2
as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off: nothing in a throwaway cluster outlives the run, and the tests commit a lot.
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }

status=0
"$@" || status=$?
exit "$status"
