#!/usr/bin/env bash
# Backup and restore of the local stack's PostgreSQL database (deploy/OPERATIONS.md, "Backup
# and restore"). Usage: deploy/local/backup.sh backup [FILE] | restore [FILE]
#
# backup: pg_dump's custom format. It reads the database in one repeatable-read snapshot, so
#   events, participants and the outbox are consistent with each other while writes go on
#   (it blocks no write); the file is compressed and restores into any fresh database.
# restore: into a fresh database next to the live one, versions advanced past every version
#   seen before (overlap_shared.restore_epoch), then swapped in under the same name; the
#   replaced one is kept as <db>_replaced. Then every cache is cleared and the views warmed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
BACKUP_DIR=${BACKUP_DIR:-$OVERLAP_HOME/backups}
PY=$OVERLAP_ROOT/.venv/bin/python
PG_HOST=${PG_HOST:-127.0.0.1}
export PGPASSWORD=$PG_PASSWORD PGOPTIONS="-c client_min_messages=warning"

# SQL on the maintenance database as the databases' owner (creates, renames, drops them; may
# end its own sessions): the application's role, which has CREATEDB, is enough.
psql_admin() {
  psql -h "$PG_HOST" -p "$PG_PORT" -U "${PG_ADMIN_USER:-$PG_USER}" -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}
db_url() { echo "postgresql+asyncpg://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/$1"; }
elapsed() { echo "$(( $(date +%s%N) / 1000000 - $1 ))"; }  # elapsed START_MS: milliseconds since
now_ms() { echo "$(( $(date +%s%N) / 1000000 ))"; }

backup() {
  local file=${1:-$BACKUP_DIR/$PG_DB-$(date -u +%Y%m%dT%H%M%SZ).dump} start
  umask 077  # a backup holds everyone's names and key hashes
  mkdir -p "$(dirname "$file")"
  start=$(now_ms)
  "$PG_BIN/pg_dump" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" --format=custom \
    --lock-wait-timeout=10s --file="$file.partial"
  mv "$file.partial" "$file"
  log "backup of $PG_DB: $(du -k "$file" | cut -f1) KiB in $(elapsed "$start") ms"
  echo "$file"
}

swap_in() {  # swap_in NEW TARGET: NEW takes TARGET's name; the old TARGET becomes TARGET_replaced
  local new=$1 db=$2 aside=${2}_replaced
  psql_admin -c "drop database if exists \"$aside\" with (force)"
  if [[ $(psql_admin -c "select 1 from pg_database where datname = '$db'") == 1 ]]; then
    # No new session may start between the last one ending and the rename.
    psql_admin -c "alter database \"$db\" with allow_connections false" \
      -c "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = '$db'" \
      -c "alter database \"$db\" rename to \"$aside\"" \
      -c "alter database \"$new\" rename to \"$db\"" \
      -c "alter database \"$aside\" with allow_connections true" >/dev/null
  else
    psql_admin -c "alter database \"$new\" rename to \"$db\""
  fi
}

restore() {
  local file=${1:-$(ls -t "$BACKUP_DIR"/*.dump 2>/dev/null | head -1)} new=${PG_DB}_restoring start
  [[ -s $file ]] || die "no backup to restore (give a file, or run 'make backup' first)"
  start=$(now_ms)
  psql_admin -c "drop database if exists \"$new\" with (force)" \
    -c "create database \"$new\" owner \"$PG_USER\""
  "$PG_BIN/pg_restore" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$new" --no-owner \
    --no-privileges --exit-on-error --jobs="${RESTORE_JOBS:-2}" "$file"
  log "restored $file into $new in $(elapsed "$start") ms"
  DATABASE_URL=$(db_url "$new") "$PY" -m overlap_shared.restore_epoch \
    --gap "${RESTORE_VERSION_GAP:-1000000000}" >&2
  log "versions advanced in $new at $(elapsed "$start") ms"
  swap_in "$new" "$PG_DB"
  log "$PG_DB is the restored database at $(elapsed "$start") ms (the one it replaced: ${PG_DB}_replaced)"
  DATABASE_URL=$(db_url "$PG_DB") "$PY" -m overlap_shared.clear_caches >&2
  log "caches cleared at $(elapsed "$start") ms"
  DATABASE_URL=$(db_url "$PG_DB") "$PY" -m overlap_api.ops.warm \
    --limit "${RESTORE_WARM_LIMIT:-1000}" --rate "${RESTORE_WARM_RATE:-200}" >/dev/null
  log "restore done in $(elapsed "$start") ms: caches cleared, views warmed, pages follow"
}

case ${1:-} in
  backup) backup "${2:-}" ;;
  restore) restore "${2:-}" ;;
  *) echo "usage: $0 backup [FILE] | restore [FILE]" >&2; exit 2 ;;
esac
