#!/usr/bin/env bash
# The PostgreSQL change log's trigger (issue 21): rows/s of a bulk INSERT and UPDATE into a plugin
# table with the statement-level triggers (transition tables, one log INSERT per statement; the
# text of Runtime/PlexusStorage/Postgres/PostgresSchema.swift) side by side with the row-level
# trigger they replaced (one function call, log INSERT and NOTIFY per row) and with no trigger.
# Target: the statement-level triggers at least as fast as the row-level one on the bulk insert
# (exit 3 otherwise). Exit 1 when the server does not start or a change is not logged once.
# Wall-clock through psql: on a loaded machine the figures are noisy (take the medians).
# Usage: bench/changelog.sh [rows, default 20000] [rounds, default 5]
set -euo pipefail
ROWS=${1:-20000}
ROUNDS=${2:-5}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$BIN" ] && [ -x "$BIN/initdb" ] || { echo "FAIL: no PostgreSQL server binaries (scripts/install-deps.sh)"; exit 1; }
DIR=$(mktemp -d /tmp/plexus-changelog-XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AS=(); if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; AS=(/usr/sbin/runuser -u postgres --); fi
cleanup() { "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync -E UTF8 --locale=C >/dev/null
"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" -l "$DIR/log" -w start >/dev/null \
  || { echo "FAIL: PostgreSQL did not start"; cat "$DIR/log"; exit 1; }
P=(psql -h 127.0.0.1 -p "$PORT" -U postgres -q -At -v ON_ERROR_STOP=1)

# The log table in three schemas: no trigger, the row-level trigger (before), the statement-level ones (now).
for schema in none rowlevel stmtlevel; do
  "${P[@]}" -c "CREATE SCHEMA $schema; SET search_path = $schema;
    CREATE TABLE _plexus_changes (seq BIGSERIAL PRIMARY KEY, tx BIGINT NOT NULL, tbl TEXT NOT NULL, op TEXT NOT NULL,
      row_id BIGINT NOT NULL, at DOUBLE PRECISION NOT NULL DEFAULT extract(epoch FROM clock_timestamp()));
    CREATE INDEX _plexus_changes_at ON _plexus_changes(at);
    CREATE TABLE _plexus_changes_pruned (singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton), at DOUBLE PRECISION NOT NULL);
    INSERT INTO _plexus_changes_pruned (at) VALUES (0);
    CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, n DOUBLE PRECISION);" >/dev/null
done
"${P[@]}" >/dev/null <<'SQL'
SET search_path = rowlevel;
CREATE FUNCTION _plexus_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $plexus$
DECLARE j jsonb; id bigint := 0; s bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN j := to_jsonb(OLD); ELSE j := to_jsonb(NEW); END IF;
    IF jsonb_typeof(j->'id') = 'number' THEN id := floor((j->>'id')::numeric)::bigint; END IF;
    INSERT INTO _plexus_changes (tx, tbl, op, row_id) VALUES (txid_current(), TG_TABLE_NAME, lower(TG_OP), id) RETURNING seq INTO s;
    PERFORM pg_notify(TG_TABLE_SCHEMA, json_build_object('x', txid_current(), 't', TG_TABLE_NAME, 'o', lower(TG_OP), 'r', id, 's', s)::text);
    RETURN NULL;
END $plexus$;
CREATE TRIGGER _plexus_changes AFTER INSERT OR UPDATE OR DELETE ON items FOR EACH ROW EXECUTE FUNCTION _plexus_notify();
SET search_path = stmtlevel;
CREATE FUNCTION _plexus_prune_changes() RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $plexus$
DECLARE now double precision := extract(epoch FROM clock_timestamp());
BEGIN
    IF (SELECT at FROM _plexus_changes_pruned) > now - 60 THEN RETURN; END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('plexus-prune:' || current_schema())) THEN RETURN; END IF;
    UPDATE _plexus_changes_pruned SET at = now;
    DELETE FROM _plexus_changes WHERE seq IN (SELECT seq FROM _plexus_changes WHERE at < now - 3600 ORDER BY seq LIMIT 10000);
END $plexus$;
CREATE FUNCTION _plexus_log_changes() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $plexus$
DECLARE op text := lower(TG_OP); x bigint := txid_current(); n bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        WITH logged AS (INSERT INTO _plexus_changes (tx, tbl, op, row_id)
            SELECT x, TG_TABLE_NAME, op, CASE WHEN jsonb_typeof(j->'id') = 'number' THEN floor((j->>'id')::numeric)::bigint ELSE 0 END
            FROM (SELECT to_jsonb(r) AS j FROM old_rows r) changed RETURNING seq, row_id)
        SELECT count(pg_notify(TG_TABLE_SCHEMA, json_build_object('x', x, 't', TG_TABLE_NAME, 'o', op, 'r', l.row_id, 's', l.seq)::text))
        INTO n FROM (SELECT * FROM logged ORDER BY seq) l;
    ELSE
        WITH logged AS (INSERT INTO _plexus_changes (tx, tbl, op, row_id)
            SELECT x, TG_TABLE_NAME, op, CASE WHEN jsonb_typeof(j->'id') = 'number' THEN floor((j->>'id')::numeric)::bigint ELSE 0 END
            FROM (SELECT to_jsonb(r) AS j FROM new_rows r) changed RETURNING seq, row_id)
        SELECT count(pg_notify(TG_TABLE_SCHEMA, json_build_object('x', x, 't', TG_TABLE_NAME, 'o', op, 'r', l.row_id, 's', l.seq)::text))
        INTO n FROM (SELECT * FROM logged ORDER BY seq) l;
    END IF;
    PERFORM _plexus_prune_changes();
    RETURN NULL;
END $plexus$;
CREATE TRIGGER _plexus_changes AFTER INSERT ON items REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION _plexus_log_changes();
CREATE TRIGGER _plexus_changes_update AFTER UPDATE ON items REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION _plexus_log_changes();
CREATE TRIGGER _plexus_changes_delete AFTER DELETE ON items REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION _plexus_log_changes();
SQL

now() { date +%s.%N; }
declare -A INS UPD
for round in $(seq 1 "$ROUNDS"); do
  for schema in none rowlevel stmtlevel; do
    "${P[@]}" -c "TRUNCATE $schema.items; TRUNCATE $schema._plexus_changes" >/dev/null
    start=$(now); "${P[@]}" -c "INSERT INTO $schema.items SELECT g, 'row ' || g, g * 1.5 FROM generate_series(1, $ROWS) g" >/dev/null; middle=$(now)
    "${P[@]}" -c "UPDATE $schema.items SET n = n + 1" >/dev/null; end=$(now)
    logged=$("${P[@]}" -c "SELECT count(*) FROM $schema._plexus_changes")
    if [ "$schema" = none ]; then expected=0; else expected=$((2 * ROWS)); fi
    [ "$logged" = "$expected" ] || { echo "FAIL: $schema logged $logged changes, expected $expected"; exit 1; }
    INS[$schema]+="$(python3 -c "print(round($ROWS/($middle-$start)))") "
    UPD[$schema]+="$(python3 -c "print(round($ROWS/($end-$middle)))") "
  done
done
median() { python3 -c "import statistics,sys; print(round(statistics.median(int(x) for x in sys.argv[1:])))" $1; }
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); $ROWS rows, $ROUNDS rounds; rows/s, median (every round)"
for schema in none rowlevel stmtlevel; do
  echo "$schema: insert $(median "${INS[$schema]}") (${INS[$schema]% }); update $(median "${UPD[$schema]}") (${UPD[$schema]% })"
done
ratio_ins=$(python3 -c "print(round($(median "${INS[stmtlevel]}")/$(median "${INS[rowlevel]}"), 2))")
ratio_upd=$(python3 -c "print(round($(median "${UPD[stmtlevel]}")/$(median "${UPD[rowlevel]}"), 2))")
echo "statement-level / row-level: insert ${ratio_ins}x, update ${ratio_upd}x"
python3 -c "import sys; sys.exit(0 if $ratio_ins >= 1.0 else 1)" \
  || { echo "TARGET MISSED: the statement-level triggers are slower than the row-level one on the bulk insert"; exit 3; }
