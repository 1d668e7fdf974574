# Sourced by scripts/demo-mailhost.sh: the OAuth 2.0 side of the demo host. An authorization
# server on loopback (scripts/demo-oauth-server.mjs, run as nobody) issues client-credentials
# tokens to mailbox clients, and Dovecot's oauth2 passdb asks it (token introspection, RFC
# 7662) whether a token presented with XOAUTH2 or OAUTHBEARER is active and whose it is.
#
# Measured here (Dovecot 2.3.19): the user:password@ in introspection_url is sent as Basic
# auth; a refused token answers "NO [AUTHENTICATIONFAILED]" after an error challenge
# ({"status":"401",...}) and counts toward Dovecot's per-address auth penalty like a wrong
# password (2 s, then up to 15 s more per later login from that address); imapflow picks
# OAUTHBEARER, the POP3 client XOAUTH2.

OAUTH_PORT=8480
OAUTH_URL="http://$HOST4:$OAUTH_PORT"
OAUTH_RUN_DIR="/run/email-scout-demo-oauth"
OAUTH_PID_FILE="$OAUTH_RUN_DIR/oauth.pid"
OAUTH_LOG="/var/log/email-scout-demo-oauth.log"
OAUTH_CLIENTS="$DEMO_DIR/oauth-clients.json"
OAUTH_SERVER_JS="$DEMO_DIR/demo-oauth-server.mjs"
# Mailbox logins that may use OAuth: the client id is the login, the client secret a public
# demo secret (like the demo passwords), also in $DEMO_DIR/<user>.oauth-secret (mode 0600).
OAUTH_USERS=(probe-fetch)
# A second client for the same mailbox whose tokens last 2 s: tests see an expired token refused.
OAUTH_SHORTLIVED_CLIENT="probe-fetch-shortlived"
OAUTH_SHORTLIVED_USER="probe-fetch"
OAUTH_SHORTLIVED_SECONDS=2
# Dovecot authenticates to the introspection endpoint as this resource server (RFC 7662 §2.1).
OAUTH_INTROSPECTOR="dovecot"
OAUTH_INTROSPECTOR_SECRET="dovecot-demo-introspection-secret"

oauth_secret_of() { printf '%s-demo-oauth-secret' "$1"; }

oauth_clients_json() {
  local u sep=""
  printf '{\n'
  for u in "${OAUTH_USERS[@]}"; do
    printf '%s  "%s": { "secret": "%s", "username": "%s" }' "$sep" "$u" "$(oauth_secret_of "$u")" "$u"
    sep=$',\n'
  done
  printf '%s  "%s": { "secret": "%s", "username": "%s", "lifetime": %s }' "$sep" "$OAUTH_SHORTLIVED_CLIENT" \
    "$(oauth_secret_of "$OAUTH_SHORTLIVED_CLIENT")" "$OAUTH_SHORTLIVED_USER" "$OAUTH_SHORTLIVED_SECONDS"
  printf '%s  "%s": { "secret": "%s", "introspect": true }\n}\n' "$sep" "$OAUTH_INTROSPECTOR" "$OAUTH_INTROSPECTOR_SECRET"
}

# The oauth2 passdb's settings (args file of `passdb { driver = oauth2 }`).
dovecot_oauth2_config() {
  cat <<CONF
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
# Every token is introspected (RFC 7662, POST token=...) at the demo OAuth server; it is
# accepted when "active" is true and "username" is the login it was presented for.
introspection_mode = post
introspection_url = http://$OAUTH_INTROSPECTOR:$OAUTH_INTROSPECTOR_SECRET@$HOST4:$OAUTH_PORT/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
CONF
}

oauth_files() {
  local u script_dir
  script_dir="$(dirname "${BASH_SOURCE[0]}")/.."
  install -m 0644 "$script_dir/demo-oauth-server.mjs" "$OAUTH_SERVER_JS.new"
  if cmp -s "$OAUTH_SERVER_JS.new" "$OAUTH_SERVER_JS"; then rm -f "$OAUTH_SERVER_JS.new"; else mv -f "$OAUTH_SERVER_JS.new" "$OAUTH_SERVER_JS"; fi
  oauth_clients_json | write_if_changed "$OAUTH_CLIENTS" 0640 root:nogroup
  for u in "${OAUTH_USERS[@]}" "$OAUTH_SHORTLIVED_CLIENT"; do
    oauth_secret_of "$u" | write_if_changed "$DEMO_DIR/$u.oauth-secret" 0600 root:root
  done
  dovecot_oauth2_config | write_if_changed "$DEMO_DIR/dovecot-oauth2.conf.ext" 0640 root:dovecot
}

oauth_up() {
  local node want as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  node="$(PATH="$PATH:$CALLER_PATH" command -v node)" ||
    die "node is not on PATH ($PATH:$CALLER_PATH): the demo OAuth server needs Node.js"
  # A Node.js under /root (nvm) is out of nobody's reach: then it runs as root.
  if ! "${as_user[@]}" "$node" --version >/dev/null 2>&1; then
    log "nobody cannot run $node: the OAuth server runs as root"
    as_user=()
  fi
  oauth_files
  want="$(cat "$OAUTH_SERVER_JS" "$OAUTH_CLIENTS" | sha256sum | cut -c1-64)"
  if daemon_current oauth "$OAUTH_PID_FILE" "$want" "$OAUTH_PORT"; then
    log "OAuth server already running with the demo config (pid $(pid_from_file "$OAUTH_PID_FILE"))"
    return 0
  fi
  oauth_stop
  install -d -m 0755 -o nobody -g nogroup "$OAUTH_RUN_DIR"
  log "starting the OAuth server on $OAUTH_URL"
  setsid -f "${as_user[@]}" "$node" "$OAUTH_SERVER_JS" \
    --listen "$HOST4:$OAUTH_PORT" --clients "$OAUTH_CLIENTS" --pid-file "$OAUTH_PID_FILE" \
    </dev/null >>"$OAUTH_LOG" 2>&1 9>&-
  daemon_started oauth "$OAUTH_PID_FILE" "$want" "$OAUTH_PORT" "$OAUTH_LOG"
}

oauth_stop() {
  daemon_stop oauth "$OAUTH_PID_FILE" "$OAUTH_PORT"
}

oauth_down() {
  oauth_stop
  rm -rf "$OAUTH_RUN_DIR"
}
