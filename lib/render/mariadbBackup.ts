/**
 * MariaDB backup and restore scripts (POSIX sh). The CronJob runs exactly `renderBackupScript()`
 * (from a ConfigMap), test/mariadb.backup.test.ts runs the same text against a real MariaDB, and
 * docs/how-to/restore.md runs `renderRestoreScript()`. Pure: returns text.
 *
 * Upstream rules (MariaDB 10.11 mariadb-dump, mariadb.com/kb/en/mariadb-dump/):
 * - `--single-transaction` dumps InnoDB tables from one consistent snapshot (START TRANSACTION WITH
 *   CONSISTENT SNAPSHOT) without locking writers; it does not protect against concurrent DDL.
 * - `--databases <db>` writes `CREATE DATABASE … ; USE …;` so a restore needs no target name.
 * - With comments on (the default) a completed dump ends with the line `-- Dump completed on …`;
 *   a dump cut off by a crash, a lost connection or a killed pod does not. The script checks it.
 * - Credentials go in an option file (`--defaults-extra-file`, mode 0600), never on the command line
 *   (where `ps` shows them).
 *
 * Environment of both scripts: MARIADB_HOST, MARIADB_PORT (3306), MARIADB_USER, MARIADB_PASSWORD
 * (from a Kubernetes Secret), BACKUP_DIR. The backup also takes BACKUP_DATABASES (space-separated,
 * required) and BACKUP_KEEP (7).
 *
 * Layout: `$BACKUP_DIR/<UTC yyyymmddThhmmssZ>/<db>.sql.gz` + `SHA256SUMS`. A run writes into
 * `.partial-<ts>` and renames it when every dump checked out, so a listed backup is a complete one.
 */

/** The timestamped directory names the backup script writes (and the only ones retention deletes). */
export const BACKUP_NAME = /^\d{8}T\d{6}Z$/;

const connection = `: "\${MARIADB_HOST:?is required}" "\${MARIADB_USER:?is required}" "\${MARIADB_PASSWORD:?is required (from the Secret)}"
PORT="\${MARIADB_PORT:-3306}"
TMP=$(mktemp -d)
CNF="$TMP/client.cnf"
# An option file (mode 0600 under umask 077) keeps the password out of the process list.
printf '[client]\\nhost=%s\\nport=%s\\nuser=%s\\npassword="%s"\\n' "$MARIADB_HOST" "$PORT" "$MARIADB_USER" "$MARIADB_PASSWORD" > "$CNF"`;

/** The backup script the CronJob runs. Exits non-zero (after removing its partial output) when any dump fails or is empty. */
export function renderBackupScript(): string {
  return `#!/bin/sh
# kantai: MariaDB backup. Rendered by kantai (lib/render/mariadbBackup.ts); do not edit.
# One consistent, compressed dump per database into $BACKUP_DIR/<UTC time>/, then keep the newest
# $BACKUP_KEEP. Any failure exits 1, so the Job fails and Kubernetes records it (Events, job status).
set -eu
umask 077
say() { echo "kantai-backup: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
${connection}
WORK=""
trap 'rm -rf "$TMP"; if [ -n "$WORK" ]; then rm -rf "$WORK"; fi' EXIT
: "\${BACKUP_DIR:?is required}"
KEEP="\${BACKUP_KEEP:-7}"
case "$KEEP" in '' | *[!0-9]*) fail "BACKUP_KEEP must be a whole number of backups, got '$KEEP'" ;; esac
[ "$KEEP" -ge 1 ] || fail "BACKUP_KEEP must be at least 1"
[ -n "\${BACKUP_DATABASES:-}" ] || fail "BACKUP_DATABASES is empty: nothing to back up"
{ [ -d "$BACKUP_DIR" ] && [ -w "$BACKUP_DIR" ]; } || fail "$BACKUP_DIR is not a writable directory (is the export mounted?)"

# Leftovers of a run that was killed (no trap ran): never a backup, always safe to remove.
rm -rf "$BACKUP_DIR"/.partial-*
TS=$(date -u +%Y%m%dT%H%M%SZ)
FINAL="$BACKUP_DIR/$TS"
[ ! -e "$FINAL" ] || fail "$FINAL exists already (two runs in one second?)"
WORK="$BACKUP_DIR/.partial-$TS"
mkdir "$WORK"

for DB in $BACKUP_DATABASES; do
  OUT="$WORK/$DB.sql.gz"
  # POSIX sh has no pipefail: the dump's exit status goes through a file (if/else: set -e would end the subshell first).
  {
    if mariadb-dump --defaults-extra-file="$CNF" --default-character-set=utf8mb4 --single-transaction --quick --routines --triggers --events --hex-blob --databases "$DB" 2> "$TMP/err"; then
      echo 0 > "$TMP/rc"
    else
      echo "$?" > "$TMP/rc"
    fi
  } | gzip -c > "$OUT"
  RC=$(cat "$TMP/rc")
  [ "$RC" = 0 ] || fail "mariadb-dump of $DB exited $RC: $(head -c 600 "$TMP/err")"
  gzip -t "$OUT" || fail "$OUT is not a valid gzip file"
  # A finished dump ends with mariadb-dump's trailer; an empty or cut-off one does not.
  gzip -dc "$OUT" | tail -n 1 | grep -q '^-- Dump completed' || fail "the dump of $DB is empty or incomplete (no '-- Dump completed' trailer)"
  gzip -dc "$OUT" | grep -q '^CREATE DATABASE' || fail "the dump of $DB has no CREATE DATABASE statement"
  say "$DB: $(wc -c < "$OUT") bytes compressed"
done
( cd "$WORK" && sha256sum -- *.sql.gz > SHA256SUMS )
mv "$WORK" "$FINAL"
WORK=""
say "backup $FINAL complete"

# Retention: the newest $KEEP complete backups stay (globs sort by name, and names are UTC times).
set -- "$BACKUP_DIR"/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z
DROP=$(( $# - KEEP ))
for OLD in "$@"; do
  [ "$DROP" -gt 0 ] || break
  rm -rf "$OLD"
  say "removed old backup $OLD"
  DROP=$(( DROP - 1 ))
done
`;
}

/**
 * The restore script: `restore.sh <backup dir | latest> [database …]`. Verifies SHA256SUMS, then
 * feeds each dump to `mariadb`. With RESTORE_DROP=1 it drops each database first (tables created
 * after the backup would otherwise survive). Exits non-zero at the first failure, naming it.
 */
export function renderRestoreScript(): string {
  return `#!/bin/sh
# kantai: MariaDB restore from a kantai backup. Rendered by kantai (lib/render/mariadbBackup.ts).
# usage: restore.sh <backup dir | latest> [database ...]
set -eu
umask 077
say() { echo "kantai-restore: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
[ "$#" -ge 1 ] || fail "usage: restore.sh <backup dir | latest> [database ...]"
SRC="$1"
shift
if [ "$SRC" = latest ]; then
  : "\${BACKUP_DIR:?is required for 'latest'}"
  LATEST=""
  for D in "$BACKUP_DIR"/[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z; do
    [ -d "$D" ] && LATEST="$D"
  done
  [ -n "$LATEST" ] || fail "no backup in $BACKUP_DIR"
  SRC="$LATEST"
fi
[ -f "$SRC/SHA256SUMS" ] || fail "$SRC has no SHA256SUMS: not a complete kantai backup"
( cd "$SRC" && sha256sum -c --quiet SHA256SUMS ) || fail "checksums in $SRC/SHA256SUMS do not match: the backup is damaged"
${connection}
trap 'rm -rf "$TMP"' EXIT
if [ "$#" -eq 0 ]; then
  for F in "$SRC"/*.sql.gz; do
    [ -f "$F" ] || fail "no dumps in $SRC"
    N=$(basename "$F" .sql.gz)
    set -- "$@" "$N"
  done
fi
say "restoring $* from $SRC"
for DB in "$@"; do
  F="$SRC/$DB.sql.gz"
  [ -f "$F" ] || fail "$SRC has no dump of $DB"
  if [ "\${RESTORE_DROP:-0}" = 1 ]; then
    mariadb --defaults-extra-file="$CNF" -e "DROP DATABASE IF EXISTS \\\`$DB\\\`" || fail "could not drop $DB"
  fi
  { if gzip -dc "$F"; then echo 0 > "$TMP/rc"; else echo "$?" > "$TMP/rc"; fi; } | mariadb --defaults-extra-file="$CNF" --default-character-set=utf8mb4 || fail "mariadb failed while restoring $DB"
  [ "$(cat "$TMP/rc")" = 0 ] || fail "could not decompress $F"
  say "$DB restored"
done
say "restore from $SRC complete"
`;
}
