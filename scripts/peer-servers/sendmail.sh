# Sendmail 8.17 (sendmail-bin + sendmail-cf, unpacked). Sourced by scripts/peer-servers.sh.
# Two daemons built from one m4 template: the main one (2630 STARTTLS, 2631 with M=S: no
# STARTTLS) and one serving the wrong certificate (2632). No AUTH: Sendmail's SASL setup
# lives in fixed system paths (/etc/sasl2, /etc/sasldb2).
SENDMAIL_DIR="$PEERS_DIR/sendmail"
SENDMAIL_VARIANTS=(main wrongcert)

# sendmail_mc VARIANT PORT CERT [NO_TLS_PORT]
sendmail_mc() {
  local cf="$UNPACKED/usr/share/sendmail/cf" d="$SENDMAIL_DIR"
  cat <<EOF
divert(-1)
# Managed by scripts/peer-servers.sh (Email Scout peer matrix). Rewritten on "up".
define(\`_CF_DIR_', \`$cf/')
divert(0)dnl
include(\`$cf/m4/cf.m4')dnl
VERSIONID(\`Email Scout peer sendmail $1')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$NAME')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/service.switch')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`QUEUE_DIR', \`$d/queue-$1')dnl
define(\`STATUS_FILE', \`$d/$1.st')dnl
define(\`confPID_FILE', \`$d/$1.pid')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`confCACERT_PATH', \`$d/certs')dnl
define(\`confCACERT', \`$d/certs/ca.pem')dnl
define(\`confSERVER_CERT', \`$d/$3.pem')dnl
define(\`confSERVER_KEY', \`$d/$3.key')dnl
define(\`confSMTP_LOGIN_MSG', \`\$j Sendmail \$v/\$Z (Email Scout peer)')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA-$1, Addr=$HOST, Port=$2')dnl
EOF
  [ -n "${4:-}" ] && echo "DAEMON_OPTIONS(\`Family=inet, Name=MTA-notls, Addr=$HOST, Port=$4, M=S')dnl"
  cat <<'EOF'
MAILER(`local')dnl
MAILER(`smtp')dnl
EOF
}

sendmail_up() {
  local v hash pids=()
  install -d -m 0755 "$SENDMAIL_DIR" "$SENDMAIL_DIR/certs"
  copy_certs "$SENDMAIL_DIR" root:root
  write_if_changed "$SENDMAIL_DIR/certs/ca.pem" 0644 root:root <"$PEERS_DIR/ca.pem"
  # Names from /etc/hosts only: the resolver points outside loopback.
  printf 'hosts files\naliases files\n' | write_if_changed "$SENDMAIL_DIR/service.switch" 0644 root:root
  printf '%s %s localhost\n' "$HOST" "$NAME" | write_if_changed "$SENDMAIL_DIR/hosts" 0644 root:root
  printf 'postmaster: root\n' | write_if_changed "$SENDMAIL_DIR/aliases" 0644 root:root
  sendmail_mc main 2630 good 2631 | write_if_changed "$SENDMAIL_DIR/main.mc" 0644 root:root
  sendmail_mc wrongcert 2632 wrong | write_if_changed "$SENDMAIL_DIR/wrongcert.mc" 0644 root:root
  for v in "${SENDMAIL_VARIANTS[@]}"; do
    install -d -m 0700 "$SENDMAIL_DIR/queue-$v"
    # cf.m4 stamps the build time and directory into the .cf: drop them so it is byte-stable.
    m4 "$SENDMAIL_DIR/$v.mc" 2>>"$LOG_DIR/sendmail-start.log" | grep -v '^##### \(built by\|in\) ' | write_if_changed "$SENDMAIL_DIR/$v.cf" 0644 root:root
    pids+=("$SENDMAIL_DIR/$v.pid")
  done
  hash="$(config_hash "$SENDMAIL_DIR"/*.cf "$SENDMAIL_DIR/good.pem" "$SENDMAIL_DIR/wrong.pem")"
  running_as sendmail "$hash" "${pids[@]}" && return 0
  sendmail_down
  wait_ports closed Sendmail "${SENDMAIL_PORTS[@]}"
  log "starting Sendmail"
  for v in "${SENDMAIL_VARIANTS[@]}"; do
    # Sendmail wants a qualified host name before it reads its .cf; with this host's bare
    # "vm" it sleeps 60 s ("My unqualified host name ... sleeping for retry"). So it runs
    # in its own UTS and mount namespaces: host name $NAME, and a private /etc/hosts for it.
    unshare --mount --uts sh -c "mount --bind '$SENDMAIL_DIR/hosts' /etc/hosts && hostname '$NAME' &&
      exec '$UNPACKED/usr/libexec/sendmail/sendmail' '-C$SENDMAIL_DIR/$v.cf' -bd -q30m" \
      </dev/null >>"$LOG_DIR/sendmail-start.log" 2>&1 9>&- || die "Sendmail ($v) did not start (see $LOG_DIR/sendmail-start.log)"
    wait_pidfile "$SENDMAIL_DIR/$v.pid" "Sendmail ($v)"
  done
  echo "$hash" >"$PEERS_DIR/sendmail.state"
}

sendmail_down() {
  stop_pidfiles "$SENDMAIL_DIR/main.pid" "$SENDMAIL_DIR/wrongcert.pid"
}
