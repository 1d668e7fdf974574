#!/usr/bin/env bash
# Peer mail servers for Email Scout's peer-matrix integration tier: real Exim, Sendmail,
# Cyrus IMAP/POP3, Courier IMAP/POP3 and GNU Mailutils imap4d/pop3d from Debian's packages,
# on 127.0.0.1 ports 2625-2669, with certificates signed by the demo mail host's CA.
#
#   bash scripts/peer-servers.sh [up]   fetch and unpack if needed, configure, start (idempotent;
#                                       also undoes the tests' fault switches)
#   bash scripts/peer-servers.sh down   stop what `up` started (by pid), wait for the ports
#   bash scripts/peer-servers.sh status what runs (exit 0 = all up, 1 = not)
#   bash scripts/peer-servers.sh env    `export SCOUT_PEERS=<facts file>`, for tests:
#                                       eval "$(bash scripts/peer-servers.sh env)"
#
# Runs as root after scripts/demo-mailhost.sh up (it signs with the demo CA), never reads stdin.
# Postfix and Dovecot stay: Exim and Sendmail conflict with Postfix (mail-transport-agent) and
# courier-imap/cyrus-imapd with Dovecot (imap-server), so those packages are fetched with
# `apt-get download` and unpacked with `dpkg -x` into $SCOUT_PEERS_CACHE (default
# /var/cache/email-scout-peers); every daemon runs from there with its own config file and
# state under $SCOUT_PEERS_DIR (default /var/lib/email-scout-peers). Only the libraries they
# link against (and courier-authlib, which conflicts with nothing) are installed with apt-get.
# Logs: /var/log/email-scout-peers/.
#
# Endpoints (all 127.0.0.1; the healthy ones first, then one port per fault):
#   Exim 4.96       2625 submission (STARTTLS, AUTH PLAIN/LOGIN only after TLS), 2626 smtps,
#                   2627 no STARTTLS, 2628 wrong certificate
#   Sendmail 8.17   2630 smtp (STARTTLS), 2631 no STARTTLS, 2632 wrong certificate (no AUTH:
#                   Sendmail's SASL reads its password db from a fixed system path)
#   Cyrus 3.6       2640 imap, 2641 imaps, 2642 pop3, 2643 pop3s (plaintext login only after
#                   TLS), 2644 imap wrong certificate, 2645 imap / 2646 pop3 without STARTTLS
#   Mailutils 3.15  imap4d 2650 (STARTTLS optional), 2651 TLS required, 2652 wrong certificate,
#                   2653 no STARTTLS, 2654 imaps; pop3d 2655..2659 the same
#   Courier 5.0     imapd 2660, 2661 imaps, 2662 TLS required, 2663 wrong certificate,
#                   2664 no STARTTLS; pop3d 2665..2669 the same
# Login everywhere: peer / peer-demo-password ($SCOUT_PEERS_DIR/peer.password). A system user
# (Courier and Mailutils authenticate through PAM), in Cyrus' own sasldb, and a fixed pair in
# Exim's plaintext authenticators.
# Fault switches the tests flip (named in the facts file; `up` removes them):
#   Exim: a file that makes the connect ACL answer "421 ... maintenance".
#   Cyrus: <configdirectory>/msg/shutdown, Cyrus' own shutdown message.
#
# Gotchas found while writing this (Debian 12, no systemd, no syslog):
#  - Exim refuses to start without its compiled-in user Debian-exim, and re-executes
#    /usr/sbin/exim4 on SIGHUP (absent here): restart it instead of reloading.
#  - Cyrus master runs service commands from /usr/lib/cyrus/bin unless they are absolute
#    paths; sasldb users carry a realm, which must be Cyrus' servername.
#  - Cyrus checks msg/shutdown only once a user is logged in: the next command gets
#    "* BYE [ALERT] <text>"; POP3 answers "-ERR [SYS/TEMP] <text>" to any command.
#  - courier-authlib's authdaemond loads its modules from /usr/lib/courier-authlib and
#    listens on /run/courier/authdaemon/socket: compiled in, so it is installed, not unpacked.
#    couriertls reads the certificate file as user courier.
#  - Sendmail adds "ESMTP" to the greeting itself and would canonify names through DNS:
#    nocanonify and a service switch with "hosts files".
#  - Mailutils' "tls-mode required" does not send LOGINDISABLED but XTLSREQUIRED, and
#    answers LOGIN with "NO LOGIN Command disabled".
set -euo pipefail

export LC_ALL=C
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="${SCOUT_PEERS_DIR:-/var/lib/email-scout-peers}"
CACHE_DIR="${SCOUT_PEERS_CACHE:-/var/cache/email-scout-peers}"
LOG_DIR="/var/log/email-scout-peers"
UNPACKED="$CACHE_DIR/root"
HOST="127.0.0.1"
NAME="peers.scout.test"
PEER_USER="peer"
PEER_PASSWORD="peer-demo-password"
CERT_DAYS=90
WAIT_SECONDS=20

# Fetched and unpacked, never installed (they conflict with Postfix or Dovecot).
UNPACK_PACKAGES=(exim4-daemon-light sendmail-bin sendmail-cf cyrus-common cyrus-imapd cyrus-pop3d
  courier-base courier-imap courier-pop mailutils-imap4d mailutils-pop3d sasl2-bin)
# Installed: libraries the unpacked binaries link against, m4 for sendmail.cf, and
# courier-authlib (no conflict; its paths are compiled in).
INSTALL_PACKAGES=(libcourier-unicode4 libgsasl18 libical3 libidn12 libkyotocabinet16v5 liblockfile1
  libltdl7 libmariadb3 libpcre3 libxapian30 libzephyr4 libgamin0 guile-3.0-libs libmailutils9
  libmu-dbm9 mailutils-common m4 courier-authlib courier-authdaemon courier-authlib-userdb)

EXIM_PORTS=(2625 2626 2627 2628)
SENDMAIL_PORTS=(2630 2631 2632)
CYRUS_PORTS=(2640 2641 2642 2643 2644 2645 2646)
MAILUTILS_PORTS=(2650 2651 2652 2653 2654 2655 2656 2657 2658 2659)
COURIER_PORTS=(2660 2661 2662 2663 2664 2665 2666 2667 2668 2669)
ALL_PORTS=("${EXIM_PORTS[@]}" "${SENDMAIL_PORTS[@]}" "${CYRUS_PORTS[@]}" "${MAILUTILS_PORTS[@]}" "${COURIER_PORTS[@]}")

INSTALL_LOG="$LOG_DIR/install.log"
POLICY_RC_D="/usr/sbin/policy-rc.d"
POLICY_MARK="temporary policy-rc.d from email-scout peer-servers.sh (removed after install)"

log() { printf 'peer-servers: %s\n' "$*" >&2; }
die() {
  printf 'peer-servers: ERROR: %s\n' "$*" >&2
  exit 1
}

require_root() { [ "$(id -u)" -eq 0 ] || die "must run as root"; }

# write_if_changed PATH MODE OWNER:GROUP  (content on stdin; replaced only when it differs)
write_if_changed() {
  local path="$1" mode="$2" owner="$3" tmp
  tmp="$(mktemp "${path}.XXXXXX")"
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$path"
  fi
  chmod "$mode" "$path"
  chown "$owner" "$path"
}

# ---------------------------------------------------------------- ports and pids
port_listening() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

wait_ports() { # wait_ports open|closed NAME PORT...
  local want="$1" name="$2" deadline=$((SECONDS + WAIT_SECONDS)) port pending
  shift 2
  while :; do
    pending=()
    for port in "$@"; do
      if [ "$want" = open ]; then
        port_listening "$port" || pending+=("$port")
      else
        port_listening "$port" && pending+=("$port")
      fi
    done
    [ "${#pending[@]}" -eq 0 ] && return 0
    [ "$SECONDS" -lt "$deadline" ] || die "$name: ports ${pending[*]} not $want after ${WAIT_SECONDS}s (logs: $LOG_DIR)"
    sleep 0.2
  done
}

# The pid in a pid file (first line), when that process is alive.
live_pid() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(head -n 1 "$1" | tr -dc '0-9')"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# stop_pidfiles FILE...: TERM every process named in the files (ours: `up` chose those files),
# all at once (courierlogger takes seconds to end its child), then wait until all are gone.
stop_pidfiles() {
  local file pid pids=() deadline=$((SECONDS + WAIT_SECONDS))
  for file in "$@"; do
    if pid="$(live_pid "$file")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      [ "$SECONDS" -lt "$deadline" ] || die "pid $pid still running after ${WAIT_SECONDS}s"
      sleep 0.1
    done
  done
  rm -f "$@"
}

# wait_pidfile FILE NAME: a daemon that forks writes its pid file a moment after it returns.
wait_pidfile() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until live_pid "$1" >/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || die "$2 wrote no live pid into $1 (logs: $LOG_DIR)"
    sleep 0.1
  done
}

# running_as NAME HASH PIDFILE...: all pid files alive and started from config HASH?
running_as() {
  local name="$1" hash="$2" file
  shift 2
  [ "$(cat "$PEERS_DIR/$name.state" 2>/dev/null)" = "$hash" ] || return 1
  for file in "$@"; do live_pid "$file" >/dev/null || return 1; done
}

# ---------------------------------------------------------------- users and certificates
ensure_users() {
  getent passwd Debian-exim >/dev/null || useradd -r -M -d /var/spool/exim4 -s /usr/sbin/nologin -U Debian-exim
  getent group mail >/dev/null || groupadd -r mail
  getent passwd cyrus >/dev/null || useradd -r -M -d "$PEERS_DIR/cyrus" -s /usr/sbin/nologin -g mail cyrus
  if ! getent passwd "$PEER_USER" >/dev/null; then
    log "creating system user $PEER_USER"
    install -d -m 0755 "$PEERS_DIR/home"
    useradd -r -m -d "$PEERS_DIR/home/$PEER_USER" -s /usr/sbin/nologin -c "Email Scout peer-matrix user" "$PEER_USER"
  fi
  # chpasswd rewrites /etc/shadow: only when the password file says it was never set.
  if [ "$(cat "$PEERS_DIR/peer.password" 2>/dev/null)" != "$PEER_PASSWORD" ]; then
    echo "$PEER_USER:$PEER_PASSWORD" | chpasswd
  fi
  local home
  home="$(getent passwd "$PEER_USER" | cut -d: -f6)"
  install -d -m 0700 -o "$PEER_USER" -g "$(id -gn "$PEER_USER")" "$home" "$home/Maildir" \
    "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
  printf '%s' "$PEER_PASSWORD" | write_if_changed "$PEERS_DIR/peer.password" 0600 root:root
}

# Leaf certificates from the demo CA: good (names $NAME, localhost, 127.0.0.1) and wrong
# (names only wrong.other.test), remade when missing or under 30 days left.
ensure_certs() {
  local demo ca key n
  demo="$(bash "$ROOT_DIR/scripts/demo-mailhost.sh" env)" || die "the demo CA is missing: run scripts/demo-mailhost.sh up first"
  ca="$(sed -n 's/^export SCOUT_DEMO_CA=//p' <<<"$demo")"
  key="$(dirname "$ca")/ca.key"
  [ -s "$ca" ] && [ -s "$key" ] || die "demo CA $ca or its key is missing: run scripts/demo-mailhost.sh up"
  install -m 0644 "$ca" "$PEERS_DIR/ca.pem"
  for n in good wrong; do
    if [ -s "$PEERS_DIR/$n.pem" ] && openssl verify -CAfile "$ca" "$PEERS_DIR/$n.pem" >/dev/null 2>&1 &&
      openssl x509 -checkend $((30 * 86400)) -noout -in "$PEERS_DIR/$n.pem" >/dev/null 2>&1; then
      continue
    fi
    log "signing the $n peer certificate with the demo CA"
    local san="DNS:$NAME, DNS:localhost, IP:$HOST"
    [ "$n" = wrong ] && san="DNS:wrong.other.test"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PEERS_DIR/$n.key" 2>/dev/null
    openssl req -new -key "$PEERS_DIR/$n.key" -subj "/O=Email Scout demo/CN=${san%%,*}" -out "$PEERS_DIR/$n.csr" 2>/dev/null
    printf 'basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = %s\n' "$san" >"$PEERS_DIR/$n.ext"
    openssl x509 -req -in "$PEERS_DIR/$n.csr" -CA "$ca" -CAkey "$key" -set_serial "0x$(openssl rand -hex 16)" \
      -days "$CERT_DAYS" -sha256 -extfile "$PEERS_DIR/$n.ext" -out "$PEERS_DIR/$n.pem" 2>/dev/null
    rm -f "$PEERS_DIR/$n.csr" "$PEERS_DIR/$n.ext"
    chmod 0600 "$PEERS_DIR/$n.key"
  done
}

# copy_certs DIR OWNER [combined]: each server gets its own copies, readable by its own user.
copy_certs() {
  local dir="$1" owner="$2" n
  for n in good wrong; do
    if [ "${3:-}" = combined ]; then
      cat "$PEERS_DIR/$n.pem" "$PEERS_DIR/$n.key" | write_if_changed "$dir/$n.pem" 0400 "$owner"
    else
      write_if_changed "$dir/$n.pem" 0644 "$owner" <"$PEERS_DIR/$n.pem"
      write_if_changed "$dir/$n.key" 0600 "$owner" <"$PEERS_DIR/$n.key"
    fi
  done
}

config_hash() { cat "$@" | sha256sum | cut -c1-64; }

# shellcheck source=scripts/peer-servers/packages.sh
. "$ROOT_DIR/scripts/peer-servers/packages.sh"
# shellcheck source=scripts/peer-servers/exim.sh
. "$ROOT_DIR/scripts/peer-servers/exim.sh"
# shellcheck source=scripts/peer-servers/sendmail.sh
. "$ROOT_DIR/scripts/peer-servers/sendmail.sh"
# shellcheck source=scripts/peer-servers/cyrus.sh
. "$ROOT_DIR/scripts/peer-servers/cyrus.sh"
# shellcheck source=scripts/peer-servers/mailutils.sh
. "$ROOT_DIR/scripts/peer-servers/mailutils.sh"
# shellcheck source=scripts/peer-servers/courier.sh
. "$ROOT_DIR/scripts/peer-servers/courier.sh"
# shellcheck source=scripts/peer-servers/facts.sh
. "$ROOT_DIR/scripts/peer-servers/facts.sh"

take_lock() {
  install -d -m 0755 "$PEERS_DIR" "$LOG_DIR"
  exec 9>"$PEERS_DIR/.lock"
  flock -w 300 9 || die "another peer-servers.sh is still running (lock $PEERS_DIR/.lock)"
}

cmd_up() {
  require_root
  take_lock
  trap remove_own_policy EXIT
  install_packages
  unpack_packages
  ensure_users
  ensure_certs
  exim_up
  sendmail_up
  cyrus_up
  mailutils_up
  courier_up
  wait_ports open "peer servers" "${ALL_PORTS[@]}"
  cyrus_create_inbox
  write_facts
  log "up: Exim, Sendmail, Cyrus, Mailutils, Courier on $HOST ports 2625-2669 (facts: $PEERS_DIR/peers.json)"
}

cmd_down() {
  require_root
  take_lock
  courier_down
  mailutils_down
  cyrus_down
  sendmail_down
  exim_down
  wait_ports closed "peer servers" "${ALL_PORTS[@]}"
  rm -f "$PEERS_DIR"/*.state
  log "down"
}

cmd_status() {
  local rc=0 port
  for port in "${ALL_PORTS[@]}"; do
    if port_listening "$port"; then echo "port $port listening"; else
      echo "port $port closed"
      rc=1
    fi
  done
  [ -s "$PEERS_DIR/peers.json" ] || rc=1
  return "$rc"
}

cmd_env() {
  [ -s "$PEERS_DIR/peers.json" ] || die "no $PEERS_DIR/peers.json: run '$0 up' first"
  printf 'export SCOUT_PEERS=%q\n' "$PEERS_DIR/peers.json"
}

main() {
  local cmd="${1:-up}"
  case "$cmd" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  -h | --help | help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (use: up | down | status | env)" ;;
  esac
}

main "$@"
