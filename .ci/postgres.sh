# Source this file: starts a throwaway PostgreSQL on loopback and exports TEST_DATABASE_URL.
# Stops it and removes its files when the sourcing shell exits (EXIT trap).
# Needs root (initdb runs as the postgres user) and Debian's postgresql package.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql; install the 'postgresql' package" >&2
  return 1
fi
GH_PG_DIR=$(mktemp -d /tmp/gatehouse-pg.XXXXXX)
chown postgres:postgres "$GH_PG_DIR"
GH_PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
runuser -u postgres -- "$pg_bin/initdb" -D "$GH_PG_DIR/data" --auth=trust --no-sync -U postgres >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$GH_PG_DIR/data" -w -l "$GH_PG_DIR/log" \
  -o "-c listen_addresses=127.0.0.1 -p $GH_PG_PORT -c unix_socket_directories=$GH_PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
gh_pg_stop() { runuser -u postgres -- "$pg_bin/pg_ctl" -D "$GH_PG_DIR/data" -m immediate stop >/dev/null 2>&1; rm -rf "$GH_PG_DIR"; }
trap gh_pg_stop EXIT
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$GH_PG_PORT/postgres"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$GH_PG_PORT (throwaway, $GH_PG_DIR)"
