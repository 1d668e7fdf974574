#!/usr/bin/env bash
# `npm start`: local mode against the demo mail host, from nothing.
#  1. the demo mail host (real Postfix + Dovecot on loopback; routes scout-returns.test to 2525)
#  2. the build (dist/email-scout.mjs, dist/email_return.cjs)
#  3. a probe key in .data/demo/probe.key (made once)
#  4. email_return installed for the demo's probe mailbox (probe@scout.test), replying to
#     returns@scout-returns.test
#  5. the demo's webhook receiver on 127.0.0.1:8026 (events with verified signatures in
#     .data/demo/webhooks.log), with a fresh whsec_ secret in .data/demo/webhook.whsec
#  6. email-scout serve --config config/demo.yaml (Ctrl-C stops it, and the receiver with it)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/demo-mailhost.sh up
node scripts/build.mjs
KEY=.data/demo/probe.key
[ -f "$KEY" ] || ./dist/email-scout.mjs key new "$KEY"
./dist/email-scout.mjs return install --user probe --return-to returns@scout-returns.test --key-file "$KEY" --log
SECRET=.data/demo/webhook.whsec
if [ ! -f "$SECRET" ]; then
  (umask 077 && node -e "console.log('whsec_' + require('crypto').randomBytes(32).toString('base64'))" > "$SECRET")
fi
# $$ becomes serve's pid at the exec below: the receiver ends when serve does.
node scripts/demo-webhook-receiver.mjs "$SECRET" 8026 --while-pid $$ >> .data/demo/webhooks.log 2>&1 &
echo
echo "Webhook events arrive at the demo receiver: tail -f .data/demo/webhooks.log"
echo "Starting local mode. In another terminal: ./dist/email-scout.mjs status --config config/demo.yaml"
exec ./dist/email-scout.mjs serve --config config/demo.yaml "$@"
