/**
 * Building blocks of the scripts kantai runs on hosts over SSH (K3s nodes, grogu, the fleet's load
 * balancer, the storage node).
 * Pure: returns text. Every script built from these is POSIX sh, idempotent (a second run
 * changes nothing), bounded where it waits, and names the host and the step when it fails.
 */

/** Quote a value for a POSIX shell (single quotes; a `'` becomes `'\''`). */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Heredoc delimiter used by the helpers below. */
export const HEREDOC_TAG = "KANTAI_EOF";

/** Which helper functions a script defines (only the ones it uses, so shellcheck sees no dead code). */
export interface PreambleHelpers {
  /** `kantai_put PATH MODE <<EOF`: write stdin to PATH only when it differs; status 0 = changed, 1 = unchanged. */
  readonly put?: boolean;
  /** `kantai_wait SECONDS WHAT CMD…`: poll CMD every 5 s until it succeeds or SECONDS pass. */
  readonly wait?: boolean;
}

/**
 * Start of every script: strict mode, the host and the current step, a trap that says which step
 * failed on which host, and the helpers asked for.
 * `host` is how the message names the machine, e.g. `pi-1 (192.168.1.20)`.
 */
export function preamble(title: string, host: string, helpers: PreambleHelpers = {}): string {
  const lines = [
    "#!/bin/sh",
    `# kantai: ${title}. Rendered by kantai; do not edit.`,
    "set -eu",
    `KANTAI_HOST=${shq(host)}`,
    "KANTAI_STEP=start",
    "step() {",
    '  KANTAI_STEP="$1"',
    '  echo "kantai: $KANTAI_HOST: $1" >&2',
    "}",
    "on_exit() {",
    "  rc=$?",
    '  if [ "$rc" -ne 0 ]; then',
    `    echo "kantai: $KANTAI_HOST: ${title.replace(/["$`\\]/g, "")} failed at step \\"$KANTAI_STEP\\" (exit $rc)" >&2`,
    "  fi",
    "}",
    "trap on_exit EXIT",
  ];
  if (helpers.put) {
    lines.push(
      "kantai_put() {",
      '  mkdir -p "$(dirname "$1")"',
      '  cat > "$1.kantai-new"',
      '  chmod "$2" "$1.kantai-new"',
      '  if [ -f "$1" ] && cmp -s "$1.kantai-new" "$1"; then',
      '    rm -f "$1.kantai-new"',
      "    return 1",
      "  fi",
      '  mv -f "$1.kantai-new" "$1"',
      "}",
    );
  }
  if (helpers.wait) {
    lines.push(
      "kantai_wait() {",
      '  limit="$1"',
      '  what="$2"',
      "  shift 2",
      "  waited=0",
      '  until "$@" >/dev/null 2>&1; do',
      '    if [ "$waited" -ge "$limit" ]; then',
      '      echo "kantai: $KANTAI_HOST: timed out after ${limit}s waiting for $what" >&2',
      "      return 1",
      "    fi",
      "    sleep 5",
      "    waited=$((waited + 5))",
      "  done",
      "}",
    );
  }
  return lines.join("\n");
}

/**
 * A `kantai_put` call writing `content` to `path` (quoted heredoc, no expansion), followed by
 * `onChange` commands run only when the file changed.
 */
export function putFile(path: string, content: string, mode: string, onChange: readonly string[] = []): string {
  if (content.split("\n").includes(HEREDOC_TAG))
    throw new Error(`putFile: content for ${path} contains the delimiter ${HEREDOC_TAG}`);
  const body = content.endsWith("\n") ? content : content + "\n";
  const head = `kantai_put ${shq(path)} ${mode} <<'${HEREDOC_TAG}'`;
  if (onChange.length === 0) return [`${head} || true`, body + HEREDOC_TAG].join("\n");
  return [`if ${head}`, body + HEREDOC_TAG, "then", ...onChange.map((c) => `  ${c}`), "fi"].join("\n");
}

/**
 * The command string that runs `script` as root on a host where the SSH user has passwordless
 * sudo (Raspberry Pi OS, Ubuntu cloud images). Standard input still reaches the script (the
 * K3s join token travels that way, never in the command line). `name` becomes `$0` in messages.
 */
export function asRoot(script: string, name: string): string {
  return `sudo -n sh -c ${shq(script)} ${shq(name)}`;
}

/** The command string that runs `script` with sh as the SSH user (standard input reaches it). */
export function asUser(script: string, name: string): string {
  return `sh -c ${shq(script)} ${shq(name)}`;
}
