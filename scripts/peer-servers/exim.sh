# Exim 4.96 (exim4-daemon-light, unpacked). Sourced by scripts/peer-servers.sh.
# One daemon on four ports; what differs per port is chosen by $received_port.
EXIM_DIR="$PEERS_DIR/exim"
EXIM_MAINTENANCE_FILE="$EXIM_DIR/maintenance"

exim_config() {
  cat <<EOF
# Managed by scripts/peer-servers.sh (Email Scout peer matrix). Rewritten on "up".
exim_user = Debian-exim
exim_group = Debian-exim
primary_hostname = $NAME
spool_directory = $EXIM_DIR/spool
log_file_path = $LOG_DIR/exim-%slog
pid_file_path = $EXIM_DIR/exim.pid
keep_environment =
local_interfaces = <; $HOST
daemon_smtp_ports = 2625 : 2626 : 2627 : 2628
tls_on_connect_ports = 2626
# 2627: no STARTTLS at all; 2628: a certificate for another name.
tls_advertise_hosts = \${if eq{\$received_port}{2627}{}{*}}
tls_certificate = \${if eq{\$received_port}{2628}{$EXIM_DIR/wrong.pem}{$EXIM_DIR/good.pem}}
tls_privatekey = \${if eq{\$received_port}{2628}{$EXIM_DIR/wrong.key}{$EXIM_DIR/good.key}}
# AUTH only once TLS is up, as on a submission port.
auth_advertise_hosts = \${if eq{\$tls_in_cipher}{}{}{*}}
host_lookup =
rfc1413_hosts =
smtp_banner = \$smtp_active_hostname ESMTP Exim \$version_number (Email Scout peer)
acl_smtp_connect = acl_connect
acl_smtp_rcpt = acl_rcpt

begin acl
acl_connect:
  # Maintenance: refuse every session at the greeting while the file exists.
  defer message = 421 $NAME is down for maintenance, try again later
        condition = \${if exists{$EXIM_MAINTENANCE_FILE}}
  accept
acl_rcpt:
  deny message = this peer accepts no mail

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and{{eq{\$auth2}{$PEER_USER}}{eq{\$auth3}{$PEER_PASSWORD}}}}
  server_set_id = \$auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = <| Username: | Password:
  server_condition = \${if and{{eq{\$auth1}{$PEER_USER}}{eq{\$auth2}{$PEER_PASSWORD}}}}
  server_set_id = \$auth1
EOF
}

exim_up() {
  install -d -m 0750 -o Debian-exim -g Debian-exim "$EXIM_DIR" "$EXIM_DIR/spool"
  touch "$LOG_DIR/exim-mainlog" "$LOG_DIR/exim-rejectlog" "$LOG_DIR/exim-paniclog"
  chown Debian-exim:Debian-exim "$LOG_DIR"/exim-*
  copy_certs "$EXIM_DIR" Debian-exim:Debian-exim
  exim_config | write_if_changed "$EXIM_DIR/exim.conf" 0644 root:root
  rm -f "$EXIM_MAINTENANCE_FILE"
  local hash
  hash="$(config_hash "$EXIM_DIR/exim.conf" "$EXIM_DIR/good.pem" "$EXIM_DIR/wrong.pem")"
  running_as exim "$hash" "$EXIM_DIR/exim.pid" && return 0
  stop_pidfiles "$EXIM_DIR/exim.pid"
  wait_ports closed Exim "${EXIM_PORTS[@]}"
  log "starting Exim"
  "$UNPACKED/usr/sbin/exim4" -C "$EXIM_DIR/exim.conf" -bd </dev/null >>"$LOG_DIR/exim-start.log" 2>&1 9>&- ||
    die "Exim did not start (see $LOG_DIR/exim-*)"
  wait_pidfile "$EXIM_DIR/exim.pid" Exim
  echo "$hash" >"$PEERS_DIR/exim.state"
}

exim_down() { stop_pidfiles "$EXIM_DIR/exim.pid"; }
