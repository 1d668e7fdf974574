# GNU Mailutils 3.15 imap4d and pop3d (unpacked; libmailutils9 installed). Sourced by
# scripts/peer-servers.sh. Each daemon has five server blocks, one per TLS mode; users log
# in through PAM (the system user) and read an mbox in the private spool.
MAILUTILS_DIR="$PEERS_DIR/mailutils"
MAILUTILS_DAEMONS=(imap4d pop3d)

# mailutils_conf DAEMON FIRST_PORT: FIRST_PORT STARTTLS optional, +1 TLS required before
# login, +2 wrong certificate, +3 no STARTTLS, +4 implicit TLS.
mailutils_conf() {
  local d="$MAILUTILS_DIR" p="$2"
  cat <<EOF
# Managed by scripts/peer-servers.sh (Email Scout peer matrix). Rewritten on "up".
logging { syslog false; };
mode daemon;
foreground false;
pidfile $d/$1.pid;
mailbox { mail-spool "$d/spool"; };
auth { authentication pam; authorization system; };
pam { service "email-scout-peers"; };
tls-file-checks { key-file none; cert-file none; ca-file none; };
tls { ssl-certificate-file "$d/good.pem"; ssl-key-file "$d/good.key"; };
server $HOST:$p { tls-mode stls; };
server $HOST:$((p + 1)) { tls-mode required; };
server $HOST:$((p + 2)) {
  tls-mode stls;
  tls { ssl-certificate-file "$d/wrong.pem"; ssl-key-file "$d/wrong.key"; };
};
server $HOST:$((p + 3)) { tls-mode false; };
server $HOST:$((p + 4)) { tls-mode connection; };
EOF
}

mailutils_up() {
  local hash daemon pids=()
  install -d -m 0755 "$MAILUTILS_DIR"
  install -d -m 1777 "$MAILUTILS_DIR/spool"
  [ -e "$MAILUTILS_DIR/spool/$PEER_USER" ] || install -m 0600 -o "$PEER_USER" -g mail /dev/null "$MAILUTILS_DIR/spool/$PEER_USER"
  copy_certs "$MAILUTILS_DIR" root:root
  mailutils_conf imap4d 2650 | write_if_changed "$MAILUTILS_DIR/imap4d.conf" 0644 root:root
  mailutils_conf pop3d 2655 | write_if_changed "$MAILUTILS_DIR/pop3d.conf" 0644 root:root
  for daemon in "${MAILUTILS_DAEMONS[@]}"; do pids+=("$MAILUTILS_DIR/$daemon.pid"); done
  hash="$(config_hash "$MAILUTILS_DIR"/*.conf "$MAILUTILS_DIR/good.pem" "$MAILUTILS_DIR/wrong.pem")"
  running_as mailutils "$hash" "${pids[@]}" && return 0
  mailutils_down
  wait_ports closed Mailutils "${MAILUTILS_PORTS[@]}"
  log "starting Mailutils imap4d and pop3d"
  for daemon in "${MAILUTILS_DAEMONS[@]}"; do
    LD_LIBRARY_PATH="$(libs_path)" "$UNPACKED/usr/sbin/$daemon" --config-file="$MAILUTILS_DIR/$daemon.conf" \
      </dev/null >>"$LOG_DIR/mailutils-$daemon.log" 2>&1 9>&- || die "$daemon did not start (see $LOG_DIR/mailutils-$daemon.log)"
    wait_pidfile "$MAILUTILS_DIR/$daemon.pid" "$daemon"
  done
  echo "$hash" >"$PEERS_DIR/mailutils.state"
}

mailutils_down() {
  stop_pidfiles "$MAILUTILS_DIR/imap4d.pid" "$MAILUTILS_DIR/pop3d.pid"
}
