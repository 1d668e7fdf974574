# Cyrus IMAP 3.6 (cyrus-common, cyrus-imapd, cyrus-pop3d, unpacked). Sourced by
# scripts/peer-servers.sh. One master; per-service config files give the fault ports.
CYRUS_DIR="$PEERS_DIR/cyrus"
cyrus_bin() { echo "$UNPACKED/usr/lib/cyrus/bin"; }
# Cyrus' own maintenance switch: while it exists, logged-in sessions get its text in a BYE.
CYRUS_SHUTDOWN_FILE="$CYRUS_DIR/config/msg/shutdown"

# cyrus_imapd_conf CERT|none
cyrus_imapd_conf() {
  cat <<EOF
# Managed by scripts/peer-servers.sh (Email Scout peer matrix). Rewritten on "up".
configdirectory: $CYRUS_DIR/config
partition-default: $CYRUS_DIR/spool
servername: $NAME
admins: cyrus
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $CYRUS_DIR/sasldb2
sasl_mech_list: PLAIN LOGIN
autocreate_quota: 0
idlesocket: $CYRUS_DIR/run/idle
notifysocket: $CYRUS_DIR/run/notify
lmtpsocket: $CYRUS_DIR/run/lmtp
syslog_prefix: peers-cyrus
EOF
  if [ "$1" = none ]; then
    echo "allowplaintext: yes"
  else
    printf 'allowplaintext: no\ntls_server_cert: %s\ntls_server_key: %s\n' "$CYRUS_DIR/$1.pem" "$CYRUS_DIR/$1.key"
  fi
}

cyrus_conf() {
  local b c="$CYRUS_DIR"
  b="$(cyrus_bin)"
  cat <<EOF
# Managed by scripts/peer-servers.sh (Email Scout peer matrix). Rewritten on "up".
START {
  recover cmd="$b/ctl_cyrusdb -r -C $c/imapd.conf"
}
SERVICES {
  imap          cmd="$b/imapd -C $c/imapd.conf" listen="$HOST:2640" prefork=0
  imaps         cmd="$b/imapd -s -C $c/imapd.conf" listen="$HOST:2641" prefork=0
  pop3          cmd="$b/pop3d -C $c/imapd.conf" listen="$HOST:2642" prefork=0
  pop3s         cmd="$b/pop3d -s -C $c/imapd.conf" listen="$HOST:2643" prefork=0
  imapwrongcert cmd="$b/imapd -C $c/imapd-wrongcert.conf" listen="$HOST:2644" prefork=0
  imapnotls     cmd="$b/imapd -C $c/imapd-notls.conf" listen="$HOST:2645" prefork=0
  pop3notls     cmd="$b/pop3d -C $c/imapd-notls.conf" listen="$HOST:2646" prefork=0
}
EVENTS {
}
EOF
}

cyrus_up() {
  local hash sasl
  install -d -m 0750 -o cyrus -g mail "$CYRUS_DIR" "$CYRUS_DIR/config" "$CYRUS_DIR/spool" "$CYRUS_DIR/run"
  install -d -m 0755 -o cyrus -g mail "$CYRUS_DIR/config/msg"
  copy_certs "$CYRUS_DIR" cyrus:mail
  cyrus_imapd_conf good | write_if_changed "$CYRUS_DIR/imapd.conf" 0644 root:root
  cyrus_imapd_conf wrong | write_if_changed "$CYRUS_DIR/imapd-wrongcert.conf" 0644 root:root
  cyrus_imapd_conf none | write_if_changed "$CYRUS_DIR/imapd-notls.conf" 0644 root:root
  cyrus_conf | write_if_changed "$CYRUS_DIR/cyrus.conf" 0644 root:root
  rm -f "$CYRUS_SHUTDOWN_FILE"
  # sasldb users carry a realm: Cyrus looks them up in its servername.
  sasl=(env "LD_LIBRARY_PATH=$(libs_path)" "$UNPACKED/usr/sbin/saslpasswd2" -f "$CYRUS_DIR/sasldb2" -u "$NAME")
  if [ ! -s "$CYRUS_DIR/sasldb2" ]; then
    printf '%s' "$PEER_PASSWORD" | "${sasl[@]}" -p -c "$PEER_USER" || die "saslpasswd2 failed"
  fi
  chown cyrus:mail "$CYRUS_DIR/sasldb2"
  chmod 0640 "$CYRUS_DIR/sasldb2"
  hash="$(config_hash "$CYRUS_DIR"/*.conf "$CYRUS_DIR/good.pem" "$CYRUS_DIR/wrong.pem")"
  running_as cyrus "$hash" "$CYRUS_DIR/master.pid" && return 0
  stop_pidfiles "$CYRUS_DIR/master.pid"
  wait_ports closed Cyrus "${CYRUS_PORTS[@]}"
  log "starting Cyrus"
  LD_LIBRARY_PATH="$(libs_path)" "$(cyrus_bin)/master" -C "$CYRUS_DIR/imapd.conf" -M "$CYRUS_DIR/cyrus.conf" \
    -p "$CYRUS_DIR/master.pid" -d </dev/null >>"$LOG_DIR/cyrus-start.log" 2>&1 9>&- ||
    die "Cyrus master did not start (see $LOG_DIR/cyrus-start.log)"
  wait_pidfile "$CYRUS_DIR/master.pid" Cyrus
  echo "$hash" >"$PEERS_DIR/cyrus.state"
}

# The INBOX is created at the first IMAP login (autocreate_quota); POP3 needs it to exist.
cyrus_create_inbox() {
  local out
  out="$(printf 'a LOGIN %s %s\r\nb LOGOUT\r\n' "$PEER_USER" "$PEER_PASSWORD" |
    timeout 20 openssl s_client -connect "$HOST:2641" -quiet 2>/dev/null || true)"
  grep -q '^a OK' <<<"$out" || die "Cyrus: the peer user cannot log in over imaps (2641): $out"
}

cyrus_down() { stop_pidfiles "$CYRUS_DIR/master.pid"; }
