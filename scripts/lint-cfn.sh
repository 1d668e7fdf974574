#!/usr/bin/env bash
# npm run lint:cfn: lints with cfn-lint the CloudFormation templates `npm run synth` writes to
# cdk.out/ (config/aws-example.yaml), and the stack with every optional aws.* feature on
# (test/unit/lib/fixtures/hosted-zone.yaml, synthesized here without bundling). Its settings,
# and the reason for every rule it ignores, are in .cfnlintrc. Errors and warnings both fail it.
# cdk.out/ is synthesized first when it is missing or older than the code and config it is made
# from (`npm run test:all` has just synthesized it).
#
# cfn-lint is a Python program from PyPI; Debian 12 has no package of it. It is looked for on
# PATH, then where pyenv and `pip install --user` put programs (CI runs without the PATH an
# interactive shell's pyenv setup adds).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Prints the path of a cfn-lint that runs, or nothing.
find_cfn_lint() {
  local home="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
  local pyenv_root="${PYENV_ROOT:-$home/.pyenv}"
  local candidate
  for candidate in \
    "$(command -v cfn-lint || true)" \
    "$pyenv_root/shims/cfn-lint" \
    "$pyenv_root"/versions/*/bin/cfn-lint \
    "$home/.local/bin/cfn-lint"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
      printf '%s\n' "$candidate"
      return
    fi
  done
}

cfn_lint="$(find_cfn_lint)"
if [ -z "$cfn_lint" ]; then
  cat >&2 <<'EOF'
lint:cfn: cfn-lint not found (looked on PATH, in pyenv's shims and versions, and in ~/.local/bin).
  Install it from PyPI: pip install cfn-lint   (or: pipx install cfn-lint)
  Debian has no package of it. A machine that cannot reach PyPI needs it on its image.
EOF
  exit 127
fi

stale=""
if ! compgen -G "cdk.out/*.template.json" >/dev/null; then
  stale="cdk.out/ has no template"
elif [ -n "$(find bin lib core lambdas config cdk.json package-lock.json -newer cdk.out/manifest.json -type f -print -quit 2>/dev/null)" ]; then
  stale="cdk.out/ is older than the code or config it is made from"
fi
if [ -n "$stale" ]; then
  echo "lint:cfn: $stale: npm run synth" >&2
  npm run --silent synth
fi

options_out="$(mktemp -d)"
trap 'rm -rf "$options_out"' EXIT
npx tsx scripts/synth-unbundled.ts test/unit/lib/fixtures/hosted-zone.yaml "$options_out"

templates=(cdk.out/*.template.json "$options_out"/*.template.json)
echo "lint:cfn: $("$cfn_lint" --version) ($cfn_lint) on ${templates[*]}"
rc=0
"$cfn_lint" "${templates[@]}" || rc=$?
if [ "$rc" -ne 0 ]; then
  # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational, 1 a crash.
  echo "lint:cfn: cfn-lint exit $rc: fix the template, or ignore the rule in .cfnlintrc with the reason" >&2
  exit "$rc"
fi
echo "lint:cfn: no errors, no warnings"
