# Sourced by scripts/demo-mailhost.sh: a real spam filter and SPF/DMARC verifier for mail
# arriving at the demo host. rspamd (Debian's 3.4) is Postfix's second milter, beside OpenDKIM,
# and stamps on every message received over SMTP
#   Authentication-Results: mail.scout.test; dkim=pass ...; spf=pass ...; dmarc=pass ...
#   X-Spamd-Result: default: False [0.40 / 15.00]; ...   X-Spam-Status: No, score=0.40
#   X-Rspamd-Action: no action   X-Rspamd-Server, X-Rspamd-Queue-Id   (X-Spam: yes from 6 points)
# Its DNS is NSD on 127.0.0.1:$DNS_PORT (demo-mailhost/dkim-verifier.sh), which publishes SPF
# and DMARC beside the DKIM keys and answers REFUSED at once for any name outside "test.":
# nothing is asked outside loopback and nothing waits for a timeout.
#
# Debian's /etc/rspamd stays as installed: rspamd runs its own rspamd.conf with LOCAL_CONFDIR
# (local.d/, override.d/) and DBDIR (caches) in $RSPAMD_CONF_DIR and RUNDIR under /run, so
# `down` has nothing to put back there. Only the proxy worker runs, as the milter, scanning by
# itself (self_scan); no normal or controller worker, no Redis.
#
# Gotchas (rspamd 3.4): rspamd treats 127.0.0.0/8 as local and by default skips SPF, DKIM, DMARC
# and the verdict headers for local clients; the monitor submits from 127.0.0.1, so check_local
# and skip_local are turned round. The authserv-id is the MTA name Postfix passes to milters
# ({daemon_name}, milter_macro_daemon_name = $myhostname). Everything that asks the Internet
# (RBLs and SURBLs, fuzzy hashes, ASN, maps fetched over HTTPS) or needs Redis (greylisting,
# ratelimit, neural, reputation; Bayes only logs that it has no backend) is off: here it could
# only fail, and greylisting would defer probes. hfilter is off too: it scores the HELO name and
# the sender domain's A/MX records, which a loopback demo does not have (+4.5 points on every
# probe). Authentication-Results already in a message stay (rspamd removes them by default):
# the monitor tells its own from the probe's by position. In the foreground rspamd writes no pid
# file. The first start builds its multipattern caches in db/ (~10 s of CPU here), later ones
# take ~1 s. At every stop rspamd 3.4 logs "cannot create file .../symbols.cache.new": it opens
# it without O_CREAT (strace); the symbol order cache is only an optimisation. Measured on the demo host: a probe signed by scout-fetch.test gets spf=pass,
# dkim=pass, dmarc=pass (policy=reject), 0.40 points (RDNS_NONE: Postfix passes no client name),
# "no action"; one From $DMARC_FAIL_DOMAIN, unsigned, with its envelope at scout-fetch.test gets
# dmarc=fail reason="SPF not aligned (relaxed), No valid DKIM", 3.10 points, and is delivered
# (rspamd enforces no DMARC policy here); with the envelope at $DMARC_FAIL_DOMAIN spf=fail too,
# 7.80 points, "add header" (X-Spam: Yes).

RSPAMD_CONF_DIR="$DEMO_DIR/rspamd"
RSPAMD_DB_DIR="$RSPAMD_CONF_DIR/db"
RSPAMD_RUN_DIR="/run/email-scout-demo-rspamd"
# A unix socket, as OpenDKIM's (dkim-verifier.sh): over loopback TCP the milter's small
# replies wait on delayed ACKs, tens of ms per message.
RSPAMD_SOCKET="$RSPAMD_RUN_DIR/milter.sock"
RSPAMD_PORT="$RSPAMD_SOCKET"
RSPAMD_PID_FILE="$RSPAMD_RUN_DIR/rspamd.pid"
RSPAMD_LOG="/var/log/email-scout-demo-rspamd.log"
RSPAMD_MAIN_CONF="/etc/rspamd/rspamd.conf"

# rspamd_conf_file NAME: one file of our LOCAL_CONFDIR, on stdout
rspamd_conf_file() {
  echo "# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on \"up\"."
  case "$1" in
  local.d/options.inc)
    cat <<CONF
# NSD's zone "test." only; it refuses other names at once.
dns {
  nameserver = ["$HOST4:$DNS_PORT"];
  timeout = 1s;
  retransmits = 1;
}
# The monitor submits from 127.0.0.1: check it like any other client.
check_local = true;
check_authed = true;
# No periodic DNS checks of RBLs; no Hyperscan (it compiles every rule's regular expression in
# the background: CPU a small shared machine has better uses for).
disable_monitoring = true;
disable_hyperscan = true;
# The C modules: without fuzzy_check (it asks rspamd.com's fuzzy storage).
filters = "chartable,dkim,regexp";
CONF
    ;;
  override.d/logging.inc)
    cat <<CONF
type = "file";
filename = "$RSPAMD_LOG";
level = "notice";
CONF
    ;;
  override.d/worker-proxy.inc)
    cat <<CONF
# Postfix's milter: scans the message itself (no normal worker behind it). override.d replaces
# the section, so Debian's other settings of it are repeated here.
bind_socket = "$RSPAMD_SOCKET mode=0666 owner=_rspamd";
milter = yes;
self_scan = yes;
timeout = 30s;
count = 1;
max_retries = 5;
discard_on_reject = false;
quarantine_on_reject = false;
spam_header = "X-Spam";
reject_message = "Spam message rejected";
# rspamd 3.4 scans in the proxy only with self_scan in its upstream too; with hosts there it
# forwards to a normal worker (none here), and Postfix logs "milter inet:...: can't read
# SMFIC_BODYEOB reply packet header" and delivers without verdicts.
upstream "local" {
  default = yes;
  self_scan = yes;
}
CONF
    ;;
  override.d/worker-normal.inc | override.d/worker-controller.inc | override.d/worker-fuzzy.inc)
    echo "enabled = false;"
    ;;
  local.d/milter_headers.conf)
    cat <<CONF
# The verdict headers on every message, the monitor's from 127.0.0.1 too.
use = ["authentication-results", "x-spam-status"];
extended_spam_headers = true;
skip_local = false;
skip_authenticated = false;
# Authentication-Results already in the message stay (rspamd removes them all by default):
# the monitor tells its own from what was in the probe by their position, and a removal by
# index could hit the field OpenDKIM, the first milter, has just added.
routines {
  authentication-results {
    remove = false;
  }
  # The host's name, as in its Received fields, rather than the machine's.
  x-rspamd-server {
    hostname = "$HOSTNAME_FQDN";
  }
}
CONF
    ;;
  local.d/dkim.conf | local.d/spf.conf | local.d/dmarc.conf)
    printf 'check_local = true;\ncheck_authed = true;\n'
    ;;
  override.d/*.conf)
    echo "enabled = false;"
    ;;
  esac
}

# Modules switched off: they ask the Internet, need Redis, or sign (we only verify).
RSPAMD_OFF_MODULES=(rbl surbl emails fuzzy_check asn phishing url_redirector dcc spamassassin
  greylist ratelimit neural replies reputation history_redis bimi rspamd_update dkim_signing
  arc mx_check metadata_exporter clickhouse elastic external_services antivirus p0f spamtrap
  dynamic_conf hfilter)

rspamd_files() {
  local name
  install -d -m 0755 "$RSPAMD_CONF_DIR" "$RSPAMD_CONF_DIR/local.d" "$RSPAMD_CONF_DIR/override.d"
  install -d -m 0750 -o _rspamd -g _rspamd "$RSPAMD_DB_DIR"
  local files=(local.d/options.inc local.d/milter_headers.conf local.d/dkim.conf local.d/spf.conf
    local.d/dmarc.conf override.d/logging.inc
    override.d/worker-proxy.inc override.d/worker-normal.inc override.d/worker-controller.inc
    override.d/worker-fuzzy.inc)
  for name in "${RSPAMD_OFF_MODULES[@]}"; do files+=("override.d/$name.conf"); done
  for name in "${files[@]}"; do
    rspamd_conf_file "$name" | write_if_changed "$RSPAMD_CONF_DIR/$name" 0644 root:root
  done
  # Files of an earlier layout that no longer belongs to it would still be read: remove them.
  for name in "$RSPAMD_CONF_DIR"/local.d/* "$RSPAMD_CONF_DIR"/override.d/*; do
    [[ " ${files[*]} " == *" ${name#"$RSPAMD_CONF_DIR"/} "* ]] || rm -f "$name"
  done
}

rspamd_vars() {
  printf '%s\n' --var="LOCAL_CONFDIR=$RSPAMD_CONF_DIR" --var="DBDIR=$RSPAMD_DB_DIR" \
    --var="RUNDIR=$RSPAMD_RUN_DIR"
}

rspamd_state() {
  cat "$RSPAMD_CONF_DIR"/local.d/* "$RSPAMD_CONF_DIR"/override.d/* | sha256sum | cut -c1-64
}

spam_filter_up() {
  local want vars
  rspamd_files
  mapfile -t vars < <(rspamd_vars)
  want="$(rspamd_state)"
  if daemon_current rspamd "$RSPAMD_PID_FILE" "$want" "$RSPAMD_PORT"; then
    log "rspamd already running with the demo config (pid $(pid_from_file "$RSPAMD_PID_FILE"))"
    return 0
  fi
  # rspamd does not unlink its socket when it ends: without our rspamd running, it is stale.
  if ! pid_from_file "$RSPAMD_PID_FILE" >/dev/null && [ -S "$RSPAMD_SOCKET" ]; then
    log "removing the stale rspamd socket $RSPAMD_SOCKET"
    rm -f "$RSPAMD_SOCKET"
  fi
  daemon_stop rspamd "$RSPAMD_PID_FILE" "$RSPAMD_PORT"
  install -d -m 0755 -o _rspamd -g _rspamd "$RSPAMD_RUN_DIR"
  touch "$RSPAMD_LOG"
  chown _rspamd:_rspamd "$RSPAMD_LOG"
  log "starting rspamd (milter) on $RSPAMD_SOCKET, authserv-id $AUTHSERV_ID"
  # In the foreground (-f) rspamd writes no pid file: the shell that execs it writes its own pid.
  # shellcheck disable=SC2016 # expanded by the inner bash ($0 = pid file, $@ = the command)
  setsid -f bash -c 'echo $$ >"$0" && exec "$@"' "$RSPAMD_PID_FILE" \
    rspamd -f -c "$RSPAMD_MAIN_CONF" "${vars[@]}" -u _rspamd -g _rspamd \
    </dev/null >>"$START_LOG" 2>&1 9>&- || die "rspamd did not start (see $START_LOG, $RSPAMD_LOG)"
  # The first start builds rspamd's caches (~10 s of CPU here): a longer bound than the others'.
  WAIT_SECONDS=$((WAIT_SECONDS * 3)) daemon_started rspamd "$RSPAMD_PID_FILE" "$want" "$RSPAMD_PORT" "$RSPAMD_LOG"
}

spam_filter_down() {
  daemon_stop rspamd "$RSPAMD_PID_FILE" "$RSPAMD_PORT"
  rm -rf "$RSPAMD_RUN_DIR"
}
