# Courier-IMAP 5.0 and Courier POP3 (unpacked) behind couriertcpd, with Debian's
# courier-authdaemon (installed; PAM, the system user). Sourced by scripts/peer-servers.sh.
# One couriertcpd per port: the settings live in each one's environment file.
COURIER_DIR="$PEERS_DIR/courier"
# name port protocol tls(plain|implicit) certificate starttls(YES|NO) tls-required(0|1)
COURIER_INSTANCES=(
  "imap 2660 imap plain good YES 0"
  "imaps 2661 imap implicit good YES 0"
  "imap-tlsreq 2662 imap plain good YES 1"
  "imap-wrongcert 2663 imap plain wrong YES 0"
  "imap-nostarttls 2664 imap plain good NO 0"
  "pop3 2665 pop3 plain good YES 0"
  "pop3s 2666 pop3 implicit good YES 0"
  "pop3-tlsreq 2667 pop3 plain good YES 1"
  "pop3-wrongcert 2668 pop3 plain wrong YES 0"
  "pop3-nostarttls 2669 pop3 plain good NO 0"
)
COURIER_AUTH_SOCKET_DIR="/run/courier/authdaemon"

courier_env() { # CERT STARTTLS TLS_REQUIRED
  cat <<EOF
# Managed by scripts/peer-servers.sh (Email Scout peer matrix). Rewritten on "up".
IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE"
IMAP_CAPABILITY_TLS="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE AUTH=PLAIN"
IMAP_STARTTLS=$2
IMAP_TLS_REQUIRED=$3
IMAP_USELOCKS=1
POP3AUTH=""
POP3AUTH_TLS="LOGIN PLAIN"
POP3_STARTTLS=$2
POP3_TLS_REQUIRED=$3
COURIERTLS=$UNPACKED/usr/bin/couriertls
TLS_PROTOCOL=TLS1_2+
TLS_STARTTLS_PROTOCOL=TLS1_2+
TLS_CERTFILE=$COURIER_DIR/$1.pem
TLS_VERIFYPEER=NONE
TLS_CACHEFILE=
MAILDIRPATH=Maildir
EOF
}

courier_up() {
  local hash line name port proto mode cert stls req pids=("$COURIER_DIR/authdaemond.pid")
  install -d -m 0755 "$COURIER_DIR"
  # couriertls reads the certificate (key included) as user courier.
  copy_certs "$COURIER_DIR" courier:courier combined
  for line in "${COURIER_INSTANCES[@]}"; do
    read -r name port proto mode cert stls req <<<"$line"
    courier_env "$cert" "$stls" "$req" | write_if_changed "$COURIER_DIR/$name.env" 0644 root:root
    pids+=("$COURIER_DIR/$name.pid")
  done
  hash="$(config_hash "$COURIER_DIR"/*.env "$COURIER_DIR/good.pem" "$COURIER_DIR/wrong.pem" /etc/courier/authdaemonrc)"
  running_as courier "$hash" "${pids[@]}" && return 0
  courier_down
  wait_ports closed Courier "${COURIER_PORTS[@]}"
  log "starting Courier authdaemond, imapd and pop3d"
  install -d -m 0750 -o courier -g courier "$COURIER_AUTH_SOCKET_DIR"
  # courierlogger forks the daemon and keeps its pid file; authdaemonrc picks PAM.
  env -i /bin/sh -c "set -a; . /etc/courier/authdaemonrc; exec /usr/sbin/courierlogger \
    -pid=$COURIER_DIR/authdaemond.pid -name=peers-authdaemond -start /usr/lib/courier/courier-authlib/authdaemond" \
    </dev/null >>"$LOG_DIR/courier-start.log" 2>&1 9>&- || die "authdaemond did not start"
  wait_pidfile "$COURIER_DIR/authdaemond.pid" authdaemond
  local login daemon wrap
  for line in "${COURIER_INSTANCES[@]}"; do
    read -r name port proto mode cert stls req <<<"$line"
    login="$UNPACKED/usr/lib/courier/courier/imaplogin"
    daemon="$UNPACKED/usr/bin/imapd"
    if [ "$proto" = pop3 ]; then
      login="$UNPACKED/usr/lib/courier/courier/courierpop3login"
      daemon="$UNPACKED/usr/lib/courier/courier/courierpop3d"
    fi
    wrap=""
    [ "$mode" = implicit ] && wrap="$UNPACKED/usr/bin/couriertls -server -tcpd"
    env -i /bin/sh -c "set -a; . $COURIER_DIR/$name.env; exec /usr/sbin/courierlogger \
      -pid=$COURIER_DIR/$name.pid -name=peers-courier-$name -start $UNPACKED/usr/sbin/couriertcpd \
      -address=$HOST -maxprocs=20 -maxperip=20 -nodnslookup -noidentlookup $port $wrap $login $daemon Maildir" \
      </dev/null >>"$LOG_DIR/courier-start.log" 2>&1 9>&- || die "Courier $name did not start"
    wait_pidfile "$COURIER_DIR/$name.pid" "Courier $name"
  done
  echo "$hash" >"$PEERS_DIR/courier.state"
}

courier_down() {
  local line name files=()
  for line in "${COURIER_INSTANCES[@]}"; do
    read -r name _ <<<"$line"
    files+=("$COURIER_DIR/$name.pid")
  done
  stop_pidfiles "${files[@]}" "$COURIER_DIR/authdaemond.pid"
}
