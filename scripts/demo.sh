#!/usr/bin/env bash
# The newcomer's first run: bring up the demo mail host (a real Postfix + Dovecot on
# loopback, scripts/demo-mailhost.sh), build the CLI, and check all seven endpoints of it
# with login, the way Nagios would call the plugin.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/demo-mailhost.sh up
eval "$(bash scripts/demo-mailhost.sh env)"
node scripts/build.mjs

echo
echo "== email-scout check against the demo mail host =="
worst=0
for kind in smtp submission smtps imap imaps pop3 pop3s; do
  login=(--user "$SCOUT_DEMO_USER" --password-file "$SCOUT_DEMO_PASSWORD_FILE")
  # Port 25 is for MTA-to-MTA mail: it offers no AUTH, so no login there.
  [ "$kind" = smtp ] && login=()
  set +e
  ./dist/email-scout.mjs check "$kind://$SCOUT_DEMO_HOST" --ca-file "$SCOUT_DEMO_CA" "${login[@]}"
  code=$?
  set -e
  [ "$code" -gt "$worst" ] && worst=$code
done
echo
echo "One result in full: ./dist/email-scout.mjs check imaps://$SCOUT_DEMO_HOST --ca-file $SCOUT_DEMO_CA --json"
exit "$worst"
