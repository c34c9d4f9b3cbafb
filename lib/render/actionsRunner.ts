/**
 * The self-hosted GitHub Actions runner VM: its cloud-init user-data and the three scripts it runs.
 * Pure: returns text, creates nothing (the component is components/ci/actionsRunner.ts).
 *
 * Why a VM and just-in-time registration (docs/decisions/0019-ci-runner-vm.md):
 * - The runner must sit inside the lab to reach the Proxmox API, the SSH hosts and the cluster APIs.
 * - Each job gets a runner registered for that job only: the loop asks GitHub's REST API for a
 *   just-in-time configuration (`POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig`,
 *   body `{name, runner_group_id, labels, work_folder}` -> `encoded_jit_config`) and starts
 *   `run.sh --jitconfig …`; GitHub removes that runner after its one job
 *   (https://docs.github.com/en/rest/actions/self-hosted-runners). Between jobs the loop wipes the
 *   work folder and the job user's home, so no job sees another's files.
 * - Privileges are split: the loop runs as root and is the only reader of the GitHub token (a
 *   fine-grained token with the repository permission "Administration: read and write"); jobs run
 *   as the unprivileged `runner` user and only ever see the single-use JIT configuration.
 * - Pull requests from forks are refused on the runner itself, by a job-started hook
 *   (`ACTIONS_RUNNER_HOOK_JOB_STARTED`, https://docs.github.com/en/actions/hosting-your-own-runners/running-scripts-before-or-after-a-job):
 *   a fork's pull request runs the workflow file from its own branch, so a job-level `if:` alone
 *   can be edited away by the pull request; the hook cannot.
 */
import { BASE_PACKAGES, renderUserData, type VmIdentity } from "./cloudInit";

/**
 * The runner release the VM installs (and verifies) on first boot; the runner updates itself from
 * there, as GitHub expects of self-hosted runners.
 * renovate: datasource=github-releases depName=actions/runner
 */
export const ACTIONS_RUNNER_RELEASE = {
  version: "2.329.0",
  /**
   * sha256 of actions-runner-linux-x64-2.329.0.tar.gz, as GitHub's "New self-hosted runner" page
   * and the release notes print it (cross-checked in several public install scripts; no network
   * here to download the file itself).
   */
  sha256: "194f1e1e4bd02f80b7e9633fc546084d8d4e19f3928a324d512ea53430102e1d",
} as const;

/** Paths on the runner VM. */
export const RUNNER_PATHS = {
  /** The extracted runner. */
  dir: "/opt/actions-runner",
  /** Scripts kantai writes. */
  libexec: "/usr/local/libexec/kantai-runner",
  /** Non-secret settings, read by the loop (systemd EnvironmentFile). */
  env: "/etc/kantai-runner/runner.env",
  /** The GitHub token, root:root 0600, written over SSH by the component (never in user-data). */
  token: "/etc/kantai-runner/github-token",
  /** Home of the job user, wiped between jobs. */
  home: "/var/lib/kantai-runner/home",
  /** systemd unit. */
  unit: "kantai-actions-runner.service",
} as const;

export interface ActionsRunnerSpec {
  /** VM identity (host name, domain, login user and SSH keys of the admin account). */
  readonly identity: VmIdentity;
  /** Repository the runner serves, `owner/name`. */
  readonly repository: string;
  /** Custom labels the runner registers with (GitHub adds self-hosted, Linux, X64 itself). */
  readonly labels: readonly string[];
  /** GitHub's REST API base. Defaults to "https://api.github.com" (GitHub Enterprise: its /api/v3). */
  readonly apiUrl?: string;
  /** Runner group id; a repository's only group is 1 ("Default"). Defaults to 1. */
  readonly runnerGroupId?: number;
  /** Release to install. Defaults to ACTIONS_RUNNER_RELEASE. */
  readonly release?: { readonly version: string; readonly sha256: string };
}

/**
 * The job-started hook: refuses a job triggered by a pull request whose head is not this
 * repository (a fork, or a deleted fork whose head repository is null). Reads the webhook payload
 * the runner puts at $GITHUB_EVENT_PATH.
 */
export function renderJobStartedHook(): string {
  return `#!/usr/bin/env bash
# kantai: refuse jobs from pull requests of forks on this self-hosted runner.
# Runs as ACTIONS_RUNNER_HOOK_JOB_STARTED before every job; a non-zero exit fails the job before any
# of its steps run. The workflow file of a fork's pull request comes from the fork, so this check
# lives on the runner, where a pull request cannot change it.
set -euo pipefail
event="\${GITHUB_EVENT_PATH:?GITHUB_EVENT_PATH is not set}"
if ! jq -e 'has("pull_request")' "$event" >/dev/null; then
  exit 0
fi
base=$(jq -r '.repository.full_name // ""' "$event")
head=$(jq -r '.pull_request.head.repo.full_name // ""' "$event")
if [ -z "$base" ] || [ "$head" != "$base" ]; then
  echo "::error::kantai runner: refusing a job for a pull request from '\${head:-a deleted fork}' (not $base): jobs from forks never run on this self-hosted runner"
  exit 1
fi
exit 0
`;
}

/**
 * The loop (root): mint a just-in-time runner configuration, run one job as the `runner` user,
 * wipe its work folder and home, repeat. Settings come from the environment (runner.env); tests
 * override the paths and KANTAI_RUNNER_AS.
 */
export function renderRunnerLoop(): string {
  return `#!/usr/bin/env bash
# kantai: one just-in-time GitHub Actions runner per job, forever.
set -euo pipefail
: "\${KANTAI_RUNNER_REPOSITORY:?}" "\${KANTAI_RUNNER_LABELS:?}" "\${KANTAI_RUNNER_API_URL:?}"
group="\${KANTAI_RUNNER_GROUP_ID:-1}"
dir="\${KANTAI_RUNNER_DIR:-${RUNNER_PATHS.dir}}"
token_file="\${KANTAI_RUNNER_TOKEN_FILE:-${RUNNER_PATHS.token}}"
home_dir="\${KANTAI_RUNNER_HOME:-${RUNNER_PATHS.home}}"
run_as="\${KANTAI_RUNNER_AS-runner}"
once="\${KANTAI_RUNNER_ONCE:-}"
backoff=5

fresh_workspace() {
  rm -rf "$dir/_work" "$home_dir"
  mkdir -p "$dir/_work" "$home_dir"
  if [ -n "$run_as" ]; then chown "$run_as:" "$dir/_work" "$home_dir"; fi
}

while :; do
  if [ ! -s "$token_file" ]; then
    echo "kantai-runner: waiting for the GitHub token at $token_file (written by pulumi up)" >&2
    [ -n "$once" ] && exit 2
    sleep 30
    continue
  fi
  fresh_workspace
  name="$(hostname -s)-$(date +%s)"
  body=$(jq -cn --arg name "$name" --argjson group "$group" --arg labels "$KANTAI_RUNNER_LABELS" \\
    '{name: $name, runner_group_id: $group, labels: ($labels | split(",")), work_folder: "_work"}')
  # The token goes to curl in a header file, never on a command line (other users can read those).
  headers=$(mktemp)
  chmod 600 "$headers"
  printf 'Authorization: Bearer %s\\n' "$(tr -d '\\r\\n' <"$token_file")" >"$headers"
  status=0
  answer=$(curl -sS --max-time 30 -o - -w '\\n%{http_code}' -X POST \\
    -H @"$headers" -H 'Accept: application/vnd.github+json' -H 'X-GitHub-Api-Version: 2022-11-28' \\
    --data "$body" "$KANTAI_RUNNER_API_URL/repos/$KANTAI_RUNNER_REPOSITORY/actions/runners/generate-jitconfig") || status=$?
  rm -f "$headers"
  code=\${answer##*$'\\n'}
  jit=""
  if [ "$status" -eq 0 ] && [ "$code" = "201" ]; then
    jit=$(printf '%s' "\${answer%$'\\n'*}" | jq -r '.encoded_jit_config // ""')
  fi
  if [ -z "$jit" ]; then
    echo "kantai-runner: generate-jitconfig for $KANTAI_RUNNER_REPOSITORY failed (curl exit $status, HTTP \${code:-none}); check the token's 'Administration: read and write' permission; retrying in \${backoff}s" >&2
    [ -n "$once" ] && exit 1
    sleep "$backoff"
    backoff=$(( backoff < 300 ? backoff * 2 : 300 ))
    continue
  fi
  backoff=5
  echo "kantai-runner: runner $name registered for one job" >&2
  job=0
  if [ -n "$run_as" ]; then
    runuser -u "$run_as" -- env HOME="$home_dir" "$dir/run.sh" --jitconfig "$jit" || job=$?
  else
    env HOME="$home_dir" "$dir/run.sh" --jitconfig "$jit" || job=$?
  fi
  echo "kantai-runner: runner $name finished (exit $job)" >&2
  fresh_workspace
  [ -n "$once" ] && exit 0
done
`;
}

/** First boot (root): the job user, the pinned runner release verified by sha256, the service. */
export function renderRunnerInstall(
  release: { readonly version: string; readonly sha256: string } = ACTIONS_RUNNER_RELEASE,
): string {
  const file = `actions-runner-linux-x64-${release.version}.tar.gz`;
  return `#!/usr/bin/env bash
# kantai: install the GitHub Actions runner ${release.version} (sha256-verified) and its service.
set -euo pipefail
id -u runner >/dev/null 2>&1 || useradd --system --create-home --home-dir ${RUNNER_PATHS.home} --shell /bin/bash runner
install -d -m 0700 -o root -g root /etc/kantai-runner
cd /var/cache
if [ ! -x ${RUNNER_PATHS.dir}/run.sh ]; then
  curl -fsSL --retry 5 -o ${file} https://github.com/actions/runner/releases/download/v${release.version}/${file}
  echo "${release.sha256}  ${file}" | sha256sum -c -
  install -d -o runner -g runner ${RUNNER_PATHS.dir}
  tar -xzf ${file} -C ${RUNNER_PATHS.dir}
  chown -R runner:runner ${RUNNER_PATHS.dir}
  rm -f ${file}
fi
# The runner also reads its hooks from the .env file beside run.sh.
grep -qs '^ACTIONS_RUNNER_HOOK_JOB_STARTED=' ${RUNNER_PATHS.dir}/.env ||
  echo 'ACTIONS_RUNNER_HOOK_JOB_STARTED=${RUNNER_PATHS.libexec}/job-started.sh' >>${RUNNER_PATHS.dir}/.env
${RUNNER_PATHS.dir}/bin/installdependencies.sh
systemctl daemon-reload
systemctl enable --now ${RUNNER_PATHS.unit}
`;
}

/** The systemd unit of the loop. */
export function renderRunnerUnit(): string {
  return [
    "[Unit]",
    "Description=kantai: just-in-time GitHub Actions runner (one job per registration)",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    `EnvironmentFile=${RUNNER_PATHS.env}`,
    `ExecStart=${RUNNER_PATHS.libexec}/loop.sh`,
    "Restart=always",
    "RestartSec=10",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** Non-secret settings of the loop and the hook (an EnvironmentFile: KEY=value lines). */
export function renderRunnerEnv(spec: ActionsRunnerSpec): string {
  return [
    `KANTAI_RUNNER_REPOSITORY=${spec.repository}`,
    `KANTAI_RUNNER_LABELS=${spec.labels.join(",")}`,
    `KANTAI_RUNNER_API_URL=${spec.apiUrl ?? "https://api.github.com"}`,
    `KANTAI_RUNNER_GROUP_ID=${spec.runnerGroupId ?? 1}`,
    // The runner reads its hooks from its environment; jobs inherit nothing else from this file.
    `ACTIONS_RUNNER_HOOK_JOB_STARTED=${RUNNER_PATHS.libexec}/job-started.sh`,
    "",
  ].join("\n");
}

/** The runner VM's user-data: base packages + jq, the scripts, the unit, first-boot install. */
export function renderActionsRunnerUserData(spec: ActionsRunnerSpec): string {
  return renderUserData({
    ...spec.identity,
    packages: [...BASE_PACKAGES, "jq"],
    files: [
      { path: `${RUNNER_PATHS.libexec}/job-started.sh`, content: renderJobStartedHook(), permissions: "0755" },
      { path: `${RUNNER_PATHS.libexec}/loop.sh`, content: renderRunnerLoop(), permissions: "0700" },
      { path: `${RUNNER_PATHS.libexec}/install.sh`, content: renderRunnerInstall(spec.release), permissions: "0700" },
      { path: RUNNER_PATHS.env, content: renderRunnerEnv(spec), permissions: "0644" },
      { path: `/etc/systemd/system/${RUNNER_PATHS.unit}`, content: renderRunnerUnit() },
    ],
    runcmd: [["systemctl", "enable", "--now", "qemu-guest-agent"], [`${RUNNER_PATHS.libexec}/install.sh`]],
  });
}
