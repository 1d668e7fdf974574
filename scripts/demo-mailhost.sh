#!/usr/bin/env bash
# Demo mail host for Email Scout: a real Postfix + Dovecot on loopback, with a private demo CA,
# a Sieve rule, an OAuth server for Dovecot's oauth2 passdb, OpenDKIM (keys in NSD) and rspamd
# beside them.
#
#   bash scripts/demo-mailhost.sh [up]   install if needed, configure, start (idempotent)
#   bash scripts/demo-mailhost.sh down   stop everything, wait until their ports are closed
#   bash scripts/demo-mailhost.sh status what runs on which port (exit 0 = all up, 1 = not)
#   bash scripts/demo-mailhost.sh env    `export` lines describing the host, for tests:
#                                        eval "$(bash scripts/demo-mailhost.sh env)"
# Fault hooks (tools/faults; `up` undoes every one of them):
#   bash scripts/demo-mailhost.sh stop-dovecot | stop-postfix    stop one daemon only
#   bash scripts/demo-mailhost.sh cert-install CERT KEY   serve another certificate (the demo
#                                        one is kept aside), reload both daemons
#   bash scripts/demo-mailhost.sh cert-restore            put the demo certificate back, reload
#
# Runs as root, never reads stdin, never prompts. Debian 12 (bookworm), no systemd needed.
# State (CA, certificate, password files, Dovecot config) lives in $SCOUT_DEMO_DIR
# (default /var/lib/email-scout-demo). Postfix is the system Postfix (/etc/postfix).
#
# Endpoints (127.0.0.1, and [::1] when the loopback has IPv6):
#   smtp 25 (STARTTLS offered), submission 587 (STARTTLS required, SASL), smtps 465 (TLS, SASL)
#   imap 143 (STARTTLS), imaps 993, pop3 110 (STLS), pop3s 995
# Demo users (system users, public demo passwords, also in $SCOUT_DEMO_DIR/<user>.password,
# mode 0600, the bare password without a trailing newline):
#   scout / scout-demo-password    the login used by checks
#   probe / probe-demo-password    gets a ~/.forward for round-trip probes
#   probe-faults / probe-faults-demo-password   the fault-injection harness's probe mailbox (tools/faults)
#   probe-fetch / probe-fetch-demo-password     fetch mode's probe mailbox: no ~/.forward, read over
#                                  IMAP/POP3; its Junk folder carries the \Junk special-use flag.
#                                  Delivered by Dovecot's LMTP, where a Sieve rule files mail with
#                                  "X-Scout-Target: junk-*" or to probe-fetch+junk@ into Junk
#                                  (demo-mailhost/sieve-filing.sh). It also logs in with XOAUTH2 or
#                                  OAUTHBEARER: tokens from the demo OAuth server, client
#                                  probe-fetch, secret in $SCOUT_DEMO_DIR/probe-fetch.oauth-secret
#                                  (demo-mailhost/oauth.sh, scripts/demo-oauth-server.mjs)
# Beside Postfix and Dovecot (each with a pid file under /run, stopped by `down`):
#   OAuth server  http://127.0.0.1:8480  /token (client credentials), /introspect (Dovecot's
#                                  oauth2 passdb asks it), /revoke
#   OpenDKIM      unix socket        Postfix's milter, verify mode: stamps Authentication-Results
#                                  (authserv-id mail.scout.test) on mail received over SMTP
#   rspamd        unix socket        Postfix's second milter: stamps Authentication-Results (spf,
#                                  dkim, dmarc; authserv-id mail.scout.test) and its spam verdict
#                                  (X-Spamd-Result, X-Spam-Status, X-Rspamd-Action)
#                                  (demo-mailhost/spam-filter.sh)
#   NSD           127.0.0.1:10053    the zone "test." with the demo DKIM key (selector demo, key
#                                  $SCOUT_DEMO_DIR/dkim/demo.private), SPF (127.0.0.0/8, ::1) and
#                                  DMARC (p=reject) for scout-fetch.test, scout-test.test,
#                                  scout-returns.test, scout-faults.test; scout-unsigned.test
#                                  fails DMARC ("v=spf1 -all", no key) (demo-mailhost/dkim-verifier.sh)
# Pipe-only mailbox (system user, no password, no IMAP/POP login):
#   probe-aws                      the AWS round-trip test's probe mailbox
#
# Gotchas found while writing this (Debian 12, Postfix 3.7, Dovecot 2.3, no systemd):
#  - Debian's master.cf chroots most Postfix daemons and only the init script fills the chroot;
#    we write our own master.cf with chroot off everywhere.
#  - No syslog here: Postfix logs through postlogd (maillog_file, must be under /var), Dovecot
#    through log_path.
#  - Postfix commands stall (300 ms steps, up to ~2 s) while main.cf is younger than 2 s, so
#    every config file is written only when its content changes.
#  - Daemons must not inherit our stdout/stderr (a held pipe makes `script | tail` hang) nor
#    our lock fd (fd 9, it would keep the lock held for the daemon's lifetime): every start
#    command runs with </dev/null >>log 2>&1 9>&-. apt-get output goes to a log for the same
#    reason (a postinst may start a daemon).
#  - dovecot-core's postinst runs `invoke-rc.d dovecot start || exit 1`: on a machine with a
#    runlevel that starts Debian's default Dovecot (all interfaces), and a failed start (e.g.
#    no snakeoil certificate, as on this image) fails the whole apt-get install. Measured here
#    without systemd: invoke-rc.d "could not determine current runlevel" and started nothing.
#    To be safe either way, while installing with no /usr/sbin/policy-rc.d present we put a
#    temporary "exit 101" one there and remove it afterwards (EXIT trap; only our own file).
#    We never edit /etc/dovecot (ucf-managed conffiles); we run
#    `dovecot -c $SCOUT_DEMO_DIR/dovecot.conf` with the same base_dir (/run/dovecot), so any
#    instance already running there (e.g. Debian's) is stopped and replaced by ours.
#  - `dovecot stop` returns at once but the master needs ~2.7 s to exit: wait for the pid and
#    the ports (bounded) before starting again.
#  - resolv.conf points outside loopback: no DNS ever. smtp_dns_support_level=disabled, an error
#    default_transport, numeric next hops in transport_maps, and smtpd_peername_lookup=no
#    (/etc/hosts has no ::1 line, so reverse lookups of ::1 or 127.0.0.2 clients would go to
#    the outside resolver). Consequence: the client is "unknown[127.0.0.1]" in the log and in
#    Received headers ("from HELO (unknown [127.0.0.1])"), presumably CLIENT_HOSTNAME too.
#  - Mail to a domain with no transport_maps route is refused at RCPT time (550 5.1.1 ... demo
#    host relays nowhere: the error transport), not queued and bounced later. Unknown local
#    users: 550 5.1.1 User unknown in local recipient table.
#  - AUTH is not offered on 25, and on 587 only after STARTTLS (smtpd_tls_auth_only); before
#    STARTTLS, 587 answers MAIL/RCPT with 530 5.7.0 Must issue a STARTTLS command first.
#  - Dovecot treats 127.0.0.1 -> 127.0.0.1 (and ::1 -> ::1) as secured: plaintext LOGIN works
#    without TLS there; connect from source 127.0.0.2 to see LOGINDISABLED / PRIVACYREQUIRED.
#    SCRAM and CRAM-MD5 stay offered before TLS (they never send the password).
#    A wrong password answers after ~1.5 s (auth penalty, longer on repeats).
#  - A certificate made for 90 days shows 89 days left right away (floor; but 90 within the
#    same second, hence a 1 s pause after making it). The server certificate is regenerated
#    only when missing, broken or under 30 days left, so read the expected value from
#    SCOUT_DEMO_CERT_DAYS_LEFT (or SCOUT_DEMO_CERT_NOT_AFTER) rather than hard-coding 89; a
#    test computing it at another instant can still land on the other side of a day boundary.
#  - The Dovecot passwd-file is read by the auth process (user dovecot), not by root: it is
#    root:dovecot 0640, and $SCOUT_DEMO_DIR and its parents must be traversable by dovecot.
#    Password hashes use a fixed salt so the file is byte-stable.
#  - Switching SCOUT_DEMO_DIR (or a new certificate) restarts both daemons: the running state
#    is recorded as "master-pid config-hash" in $SCOUT_DEMO_DIR/{dovecot,postfix}.state.
set -euo pipefail

export LC_ALL=C
# The caller's PATH, only to find Node.js (the OAuth server) where it was installed.
CALLER_PATH="${PATH:-}"
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

DEMO_DIR="${SCOUT_DEMO_DIR:-/var/lib/email-scout-demo}"
HOSTNAME_FQDN="mail.scout.test"
DOMAIN="scout.test"
HOST4="127.0.0.1"
HOST6="::1"
CERT_DAYS=90          # validity of the server certificate
CERT_MIN_DAYS=30      # regenerate below this many days left
CA_DAYS=3650
WAIT_SECONDS=20       # bound for every wait loop
POSTFIX_PORTS=(25 587 465)
DOVECOT_PORTS=(143 993 110 995)
# probe-slow and probe-void are round-trip test mailboxes: the integration tests give them
# a pipe that sleeps first, and one that discards mail.
# probe-faults belongs to tools/faults and tools/soak, which break and mend its ~/.forward.
# probe-fetch is fetch mode's mailbox (test/integration/fetch-round-trip.test.ts): never a ~/.forward.
DEMO_USERS=(scout probe probe-slow probe-void probe-faults probe-fetch)
# Mailboxes that only run a ~/.forward pipe: system users with a Maildir but no Dovecot login,
# so adding one leaves the running Dovecot alone. probe-aws is the AWS round-trip test's
# mailbox (test/integration/aws-round-trip.test.ts), whose email_return answers to scout-aws.test.
PIPE_USERS=(probe-aws)
declare -A DEMO_PASSWORDS=([scout]="scout-demo-password" [probe]="probe-demo-password"
  [probe-slow]="probe-slow-demo-password" [probe-void]="probe-void-demo-password"
  [probe-faults]="probe-faults-demo-password" [probe-fetch]="probe-fetch-demo-password")
PACKAGES=(postfix dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-sieve opendkim opendkim-tools nsd rspamd openssl)

DOVECOT_CONF="$DEMO_DIR/dovecot.conf"
DOVECOT_BASE_DIR="/run/dovecot"
DOVECOT_LOG="/var/log/dovecot-demo.log"
POSTFIX_LOG="/var/log/postfix-demo.log"
POSTFIX_DIR="/etc/postfix"
POSTFIX_TRANSPORT="$POSTFIX_DIR/transport"
POSTFIX_ALIASES="$POSTFIX_DIR/demo-aliases"
POSTFIX_PID_FILE="/var/spool/postfix/pid/master.pid"
START_LOG="$DEMO_DIR/daemon-start.log"
INSTALL_LOG="$DEMO_DIR/install.log"
POLICY_RC_D="/usr/sbin/policy-rc.d"
POLICY_MARK="temporary policy-rc.d from email-scout demo-mailhost.sh (removed after install)"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=demo-mailhost/pid-daemons.sh
. "$SCRIPT_DIR/demo-mailhost/pid-daemons.sh"
# shellcheck source=demo-mailhost/oauth.sh
. "$SCRIPT_DIR/demo-mailhost/oauth.sh"
# shellcheck source=demo-mailhost/dkim-verifier.sh
. "$SCRIPT_DIR/demo-mailhost/dkim-verifier.sh"
# shellcheck source=demo-mailhost/spam-filter.sh
. "$SCRIPT_DIR/demo-mailhost/spam-filter.sh"
# shellcheck source=demo-mailhost/sieve-filing.sh
. "$SCRIPT_DIR/demo-mailhost/sieve-filing.sh"

log() { printf 'demo-mailhost: %s\n' "$*" >&2; }
die() {
  printf 'demo-mailhost: ERROR: %s\n' "$*" >&2
  exit 1
}

require_root() { [ "$(id -u)" -eq 0 ] || die "must run as root"; }

# IPv6 loopback present? (/proc/net/if_inet6 lists ::1 as 32 hex digits ending in 1)
have_ipv6() {
  [ -r /proc/net/if_inet6 ] && grep -qE '^0{31}1[[:space:]]' /proc/net/if_inet6
}

# write_if_changed PATH MODE OWNER:GROUP  (content on stdin; the file is replaced atomically,
# and only when the content differs, so mtimes stay old and Postfix does not stall)
write_if_changed() {
  local path="$1" mode="$2" owner="$3" tmp
  tmp="$(mktemp "${path}.XXXXXX")"
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    # keep mode/owner right even when the content is unchanged
    chmod "$mode" "$path"
    chown "$owner" "$path"
    return 0
  fi
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  mv -f "$tmp" "$path"
}

# ---------------------------------------------------------------- ports
# Listening on PORT on any address? (ss when present: no connection noise; else /dev/tcp)
port_listening() {
  local port="$1"
  # A path is a unix socket (the OpenDKIM milter's): listening when the socket is there.
  if [ "${port#/}" != "$port" ]; then
    [ -S "$port" ]
  elif command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]
  else
    port_accepts "$HOST4" "$port" || { have_ipv6 && port_accepts "$HOST6" "$port"; }
  fi
}

all_listening() {
  local port
  for port in "$@"; do port_listening "$port" || return 1; done
}

# Does HOST:PORT accept a TCP connection? (bash /dev/tcp, bounded)
port_accepts() {
  local host="$1" port="$2"
  # shellcheck disable=SC2016 # expanded by the inner bash ($0, $1 = host, port)
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null
}

# wait_ports_closed NAME PORT...
wait_ports_closed() {
  local name="$1" deadline=$((SECONDS + WAIT_SECONDS)) port open
  shift
  while :; do
    open=()
    for port in "$@"; do port_listening "$port" && open+=("$port"); done
    [ "${#open[@]}" -eq 0 ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$name: ports ${open[*]} still open after ${WAIT_SECONDS}s"
    fi
    sleep 0.2
  done
}

# wait_ports_accept NAME PORT...  (on 127.0.0.1, and ::1 when IPv6 is on)
wait_ports_accept() {
  local name="$1" deadline=$((SECONDS + WAIT_SECONDS)) port host missing
  shift
  local hosts=("$HOST4")
  have_ipv6 && hosts+=("$HOST6")
  while :; do
    missing=()
    for port in "$@"; do
      for host in "${hosts[@]}"; do
        port_accepts "$host" "$port" || missing+=("$host:$port")
      done
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$name: ${missing[*]} not accepting connections after ${WAIT_SECONDS}s (see $START_LOG)"
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------- packages
pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]} (log: $INSTALL_LOG)"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the postinsts from starting Debian's default Dovecot (see the notes at the top).
  if [ ! -e "$POLICY_RC_D" ]; then
    printf '#!/bin/sh\n# %s\nexit 101\n' "$POLICY_MARK" >"$POLICY_RC_D"
    chmod 0755 "$POLICY_RC_D"
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install "${missing[@]}")
  if ! "${apt[@]}" </dev/null >>"$INSTALL_LOG" 2>&1 9>&-; then
    # Retry once after refreshing the lists, but only when the lists were the problem.
    if tail -n 40 "$INSTALL_LOG" | grep -qE 'Unable to locate package|has no installation candidate|Failed to fetch|Package .* is not available'; then
      log "package lists missing or stale: apt-get update, then retry"
      apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null >>"$INSTALL_LOG" 2>&1 9>&- ||
        die "apt-get update failed (see $INSTALL_LOG)"
      "${apt[@]}" </dev/null >>"$INSTALL_LOG" 2>&1 9>&- || {
        tail -n 20 "$INSTALL_LOG" >&2
        die "apt-get install failed (see $INSTALL_LOG)"
      }
    else
      tail -n 20 "$INSTALL_LOG" >&2
      die "apt-get install failed (see $INSTALL_LOG)"
    fi
  fi
  remove_own_policy
  for p in "${PACKAGES[@]}"; do pkg_installed "$p" || die "package $p still not installed"; done
}

# Remove the temporary policy-rc.d, only if it is ours (also runs from the EXIT trap).
remove_own_policy() {
  if [ -f "$POLICY_RC_D" ] && grep -qF "$POLICY_MARK" "$POLICY_RC_D" 2>/dev/null; then
    rm -f "$POLICY_RC_D"
  fi
}

# ---------------------------------------------------------------- certificates
cert_ok() {
  local ca="$DEMO_DIR/ca.pem" crt="$DEMO_DIR/server.pem" key="$DEMO_DIR/server.key"
  [ -s "$ca" ] && [ -s "$crt" ] && [ -s "$key" ] || return 1
  openssl verify -CAfile "$ca" "$crt" >/dev/null 2>&1 || return 1
  openssl x509 -checkend $((CERT_MIN_DAYS * 86400)) -noout -in "$crt" >/dev/null 2>&1 || return 1
  [ "$(openssl x509 -in "$crt" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ]
}

ca_ok() {
  [ -s "$DEMO_DIR/ca.pem" ] && [ -s "$DEMO_DIR/ca.key" ] || return 1
  # the CA must outlive any server certificate we sign with it
  openssl x509 -checkend $(((CERT_DAYS + 10) * 86400)) -noout -in "$DEMO_DIR/ca.pem" >/dev/null 2>&1 || return 1
  [ "$(openssl x509 -in "$DEMO_DIR/ca.pem" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$DEMO_DIR/ca.key" -pubout 2>/dev/null)" ]
}

ensure_certs() {
  local tmp
  if ca_ok && cert_ok; then return 0; fi
  tmp="$(mktemp -d "$DEMO_DIR/.certs.XXXXXX")"
  (
    umask 077
    cat >"$tmp/openssl.cnf" <<EOF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = DNS:$HOSTNAME_FQDN, DNS:localhost, IP:127.0.0.1, IP:::1
EOF
    if ! ca_ok; then
      log "creating demo CA ($DEMO_DIR/ca.pem)"
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.key" 2>/dev/null
      openssl req -config "$tmp/openssl.cnf" -new -x509 -key "$tmp/ca.key" -sha256 -days "$CA_DAYS" \
        -subj "/O=Email Scout demo/CN=Email Scout Demo CA" -extensions ca_ext \
        -set_serial "0x$(openssl rand -hex 16)" -out "$tmp/ca.pem"
      mv -f "$tmp/ca.key" "$DEMO_DIR/ca.key"
      mv -f "$tmp/ca.pem" "$DEMO_DIR/ca.pem"
    fi
    log "creating server certificate for $HOSTNAME_FQDN, valid $CERT_DAYS days"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/server.key" 2>/dev/null
    openssl req -config "$tmp/openssl.cnf" -new -key "$tmp/server.key" -sha256 \
      -subj "/O=Email Scout demo/CN=$HOSTNAME_FQDN" -out "$tmp/server.csr"
    openssl x509 -req -in "$tmp/server.csr" -CA "$DEMO_DIR/ca.pem" -CAkey "$DEMO_DIR/ca.key" \
      -set_serial "0x$(openssl rand -hex 16)" -days "$CERT_DAYS" -sha256 \
      -extfile "$tmp/openssl.cnf" -extensions server_ext -out "$tmp/server.pem" 2>/dev/null
    mv -f "$tmp/server.key" "$DEMO_DIR/server.key"
    mv -f "$tmp/server.pem" "$DEMO_DIR/server.pem"
  )
  rm -rf "$tmp"
  chmod 0600 "$DEMO_DIR/ca.key" "$DEMO_DIR/server.key"
  chmod 0644 "$DEMO_DIR/ca.pem" "$DEMO_DIR/server.pem"
  cert_ok || die "freshly made certificate does not verify"
  # notAfter = now + 90 days exactly: within the same second "days left" is still 90. Let one
  # second pass so everything computed from here on (env, tests) sees 89.
  sleep 1
}

# ---------------------------------------------------------------- certificate swap (fault hooks)
# cert-install keeps the demo pair as server.{pem,key}.kept; cert-restore (and every `up`) puts
# it back. A second cert-install keeps the first kept pair: the demo one is never overwritten.
KEPT_CERT="$DEMO_DIR/server.pem.kept"
KEPT_KEY="$DEMO_DIR/server.key.kept"

reload_daemons() {
  if dovecot_running; then
    dovecot -c "$DOVECOT_CONF" reload </dev/null >>"$START_LOG" 2>&1 9>&- || die "dovecot reload failed (see $START_LOG)"
  fi
  if postfix_running; then
    postfix reload </dev/null >>"$START_LOG" 2>&1 9>&- || die "postfix reload failed (see $START_LOG)"
  fi
}

# Puts the kept demo pair back; true when it did (the daemons then need a reload).
restore_kept_cert() {
  [ -f "$KEPT_CERT" ] && [ -f "$KEPT_KEY" ] || return 1
  mv -f "$KEPT_KEY" "$DEMO_DIR/server.key"
  mv -f "$KEPT_CERT" "$DEMO_DIR/server.pem"
  log "demo certificate restored"
}

cmd_cert_install() {
  local cert="${1:-}" key="${2:-}"
  [ -n "$cert" ] && [ -n "$key" ] || die "usage: $0 cert-install CERT.pem KEY.pem"
  [ -s "$cert" ] || die "certificate file $cert is missing or empty"
  [ -s "$key" ] || die "key file $key is missing or empty"
  [ "$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ] ||
    die "$cert and $key do not belong together (public keys differ)"
  require_root
  prepare_state_dir
  take_lock
  if [ ! -f "$KEPT_CERT" ]; then
    cp -p "$DEMO_DIR/server.pem" "$KEPT_CERT"
    cp -p "$DEMO_DIR/server.key" "$KEPT_KEY"
  fi
  install -m 0644 "$cert" "$DEMO_DIR/server.pem"
  install -m 0600 "$key" "$DEMO_DIR/server.key"
  reload_daemons
  log "serving $(openssl x509 -in "$cert" -noout -subject 2>/dev/null); undo with: $0 cert-restore (or up)"
}

cmd_cert_restore() {
  require_root
  prepare_state_dir
  take_lock
  if restore_kept_cert; then reload_daemons; else log "no swapped certificate to restore"; fi
}

cert_not_after_epoch() {
  local end
  end="$(openssl x509 -enddate -noout -in "$DEMO_DIR/server.pem" | cut -d= -f2)"
  date -u -d "$end" +%s
}

cert_days_left() {
  local diff=$(($(cert_not_after_epoch) - $(date -u +%s)))
  # floor division, also for an expired certificate
  if [ "$diff" -ge 0 ]; then echo $((diff / 86400)); else echo $(((diff - 86399) / 86400)); fi
}

cert_not_after_iso() { date -u -d "@$(cert_not_after_epoch)" +%Y-%m-%dT%H:%M:%SZ; }

# ---------------------------------------------------------------- users
ensure_users() {
  local u home
  for u in "${DEMO_USERS[@]}" "${PIPE_USERS[@]}"; do
    if ! getent passwd "$u" >/dev/null; then
      log "creating system user $u"
      useradd -m -s /usr/sbin/nologin -c "Email Scout demo user" "$u"
    fi
    home="$(getent passwd "$u" | cut -d: -f6)"
    [ -d "$home" ] || install -d -m 0750 -o "$u" -g "$(id -gn "$u")" "$home"
    install -d -m 0700 -o "$u" -g "$(id -gn "$u")" "$home/Maildir" "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
  done
  for u in "${DEMO_USERS[@]}"; do
    printf '%s' "${DEMO_PASSWORDS[$u]}" | write_if_changed "$DEMO_DIR/$u.password" 0600 root:root
  done
}

# Dovecot passwd-file: user:{SHA512-CRYPT}hash:uid:gid::home::  (fixed salt: stable content)
dovecot_users_file() {
  local u uid gid home hash
  for u in "${DEMO_USERS[@]}"; do
    uid="$(id -u "$u")"
    gid="$(id -g "$u")"
    home="$(getent passwd "$u" | cut -d: -f6)"
    hash="$(openssl passwd -6 -salt "ScoutDemo${u}" "${DEMO_PASSWORDS[$u]}")"
    printf '%s:{SHA512-CRYPT}%s:%s:%s::%s::\n' "$u" "$hash" "$uid" "$gid" "$home"
  done
}

# Second Dovecot passdb: the same passwords in the clear, for the mechanisms that never send
# the password (SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5): the server computes its side from it,
# which SHA512-CRYPT does not allow. The demo passwords are public (above) anyway.
dovecot_sasl_users_file() {
  local u
  for u in "${DEMO_USERS[@]}"; do
    printf '%s:{PLAIN}%s\n' "$u" "${DEMO_PASSWORDS[$u]}"
  done
}

# ---------------------------------------------------------------- Dovecot
dovecot_config() {
  local listen="$HOST4"
  have_ipv6 && listen="$HOST4, $HOST6"
  cat <<EOF
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
# Self-contained: does not read /etc/dovecot. Run as: dovecot -c $DOVECOT_CONF
base_dir = $DOVECOT_BASE_DIR/
protocols = imap pop3 lmtp
listen = $listen
log_path = $DOVECOT_LOG
auth_verbose = yes

ssl = yes
ssl_cert = <$DEMO_DIR/server.pem
ssl_key = <$DEMO_DIR/server.key
ssl_min_protocol = TLSv1.2
EOF
  [ -r /usr/share/dovecot/dh.pem ] && echo "ssl_dh = </usr/share/dovecot/dh.pem"
  cat <<EOF

# Default (yes) on purpose: LOGINDISABLED before TLS for clients that are not "secured".
disable_plaintext_auth = yes
# SCRAM and CRAM-MD5 besides plain/login: servers that offer them, and checks that use them.
# XOAUTH2 and OAUTHBEARER carry an OAuth access token, checked by the oauth2 passdb below.
auth_mechanisms = plain login scram-sha-256 scram-sha-1 cram-md5 xoauth2 oauthbearer

# Tokens: introspected at the demo OAuth server on $OAUTH_URL (scripts/demo-oauth-server.mjs).
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DEMO_DIR/dovecot-oauth2.conf.ext
}
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%n $DEMO_DIR/dovecot-users
}
# SCRAM and CRAM-MD5 lookups find no usable scheme above and continue here.
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $DEMO_DIR/dovecot-sasl-users
}
userdb {
  driver = passwd-file
  args = username_format=%n $DEMO_DIR/dovecot-users
}

mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  # RFC 6154 SPECIAL-USE: fetch mode finds the junk folder by this flag.
  mailbox Junk {
    special_use = \\Junk
    auto = create
  }
}

service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
$(dovecot_lmtp_sieve_config)

service auth {
  # SASL for Postfix submission/smtps (smtpd_sasl_path = private/auth)
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
}

dovecot_master_pid() {
  local pid
  [ -s "$DOVECOT_BASE_DIR/master.pid" ] || return 1
  pid="$(tr -dc '0-9' <"$DOVECOT_BASE_DIR/master.pid")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

dovecot_running() { dovecot_master_pid >/dev/null; }

dovecot_state() {
  cat "$DOVECOT_CONF" "$DEMO_DIR/dovecot-users" "$DEMO_DIR/dovecot-sasl-users" "$DEMO_DIR/server.pem" \
    "$DEMO_DIR/dovecot-oauth2.conf.ext" | sha256sum | cut -c1-64
}

dovecot_stop() {
  local pid deadline
  if pid="$(dovecot_master_pid)"; then
    log "stopping Dovecot (pid $pid)"
    if [ -f "$DOVECOT_CONF" ]; then
      dovecot -c "$DOVECOT_CONF" stop </dev/null >>"$START_LOG" 2>&1 9>&- || kill -TERM "$pid" 2>/dev/null || true
    else
      kill -TERM "$pid" 2>/dev/null || true
    fi
    deadline=$((SECONDS + WAIT_SECONDS))
    while kill -0 "$pid" 2>/dev/null; do
      [ "$SECONDS" -lt "$deadline" ] || die "Dovecot (pid $pid) still running after ${WAIT_SECONDS}s"
      sleep 0.2
    done
  fi
  wait_ports_closed Dovecot "${DOVECOT_PORTS[@]}"
  rm -f "$DEMO_DIR/dovecot.state"
}

dovecot_up() {
  dovecot_config | write_if_changed "$DOVECOT_CONF" 0644 root:root
  dovecot_users_file | write_if_changed "$DEMO_DIR/dovecot-users" 0640 root:dovecot
  dovecot_sasl_users_file | write_if_changed "$DEMO_DIR/dovecot-sasl-users" 0640 root:dovecot
  oauth_files
  sieve_files
  doveconf -c "$DOVECOT_CONF" -n >/dev/null 2>>"$START_LOG" || die "Dovecot rejects $DOVECOT_CONF (see $START_LOG)"
  local want have="" pid
  want="$(dovecot_state)"
  if pid="$(dovecot_master_pid)"; then
    [ -f "$DEMO_DIR/dovecot.state" ] && have="$(cat "$DEMO_DIR/dovecot.state")"
    if [ "$have" = "$pid $want" ] && all_listening "${DOVECOT_PORTS[@]}"; then
      log "Dovecot already running with the demo config (pid $pid)"
      return 0
    fi
    # Not ours (e.g. started by Debian's postinst with the default config), or outdated.
    dovecot_stop
  else
    wait_ports_closed Dovecot "${DOVECOT_PORTS[@]}"
  fi
  touch "$DOVECOT_LOG"
  log "starting Dovecot"
  dovecot -c "$DOVECOT_CONF" </dev/null >>"$START_LOG" 2>&1 9>&- || die "dovecot failed to start (see $START_LOG, $DOVECOT_LOG)"
  local deadline=$((SECONDS + WAIT_SECONDS))
  until pid="$(dovecot_master_pid)"; do
    [ "$SECONDS" -lt "$deadline" ] || die "Dovecot did not write $DOVECOT_BASE_DIR/master.pid"
    sleep 0.1
  done
  echo "$pid $want" >"$DEMO_DIR/dovecot.state"
  # Postfix's smtpd processes keep the SASL mechanism list they read from Dovecot's auth
  # socket: a reload makes the next ones read it again (AUTH on 587/465 follows auth_mechanisms).
  if postfix_running; then
    postfix reload </dev/null >>"$START_LOG" 2>&1 9>&- || die "postfix reload failed (see $START_LOG)"
  fi
}

# ---------------------------------------------------------------- Postfix
postfix_main_cf() {
  local protocols="ipv4" mynetworks="127.0.0.0/8"
  if have_ipv6; then
    protocols="all"
    mynetworks="127.0.0.0/8 [::1]/128"
  fi
  cat <<EOF
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
compatibility_level = 3.6
biff = no
append_dot_mydomain = no
readme_directory = no

myhostname = $HOSTNAME_FQDN
mydomain = $DOMAIN
myorigin = \$mydomain
mydestination = $HOSTNAME_FQDN, $DOMAIN, localhost
inet_interfaces = loopback-only
inet_protocols = $protocols
mynetworks = $mynetworks
smtpd_banner = \$myhostname ESMTP \$mail_name (Email Scout demo)

# Local delivery: ~/Maildir/ of system users; unknown users get 550 5.1.1 (default
# local_recipient_maps). postmaster goes to root (/root/Maildir).
home_mailbox = Maildir/
mailbox_command =
recipient_delimiter = +
alias_maps = hash:$POSTFIX_ALIASES
alias_database = hash:$POSTFIX_ALIASES

# Never any DNS, never relay anywhere except the routes in transport_maps.
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
relayhost =
transport_maps = hash:$POSTFIX_TRANSPORT
default_transport = error:demo host relays nowhere
relay_transport = error:demo host relays nowhere

smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination

# Short retry times for tests.
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 30s

# TLS (server): demo certificate signed by the demo CA.
smtpd_tls_cert_file = $DEMO_DIR/server.pem
smtpd_tls_key_file = $DEMO_DIR/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database = btree:\${data_directory}/smtpd_scache
# TLS (client, for transport_maps routes to local listeners).
smtp_tls_security_level = may
smtp_tls_CAfile = $DEMO_DIR/ca.pem
smtp_tls_loglevel = 1
smtp_tls_session_cache_database = btree:\${data_directory}/smtp_scache

# SASL through Dovecot's auth socket; enabled per service in master.cf (587, 465).
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no

# No syslog on this host: postlogd writes the log (must be under /var).
maillog_file = $POSTFIX_LOG

# OpenDKIM (verify mode) and rspamd (SPF, DKIM, DMARC, spam score) stamp their verdicts
# ($AUTHSERV_ID) on mail received over SMTP. Mail flows when they are down (the headers then
# lack their verdicts), and a milter that hangs holds a message 20 s at most.
smtpd_milters = unix:$OPENDKIM_SOCKET, unix:$RSPAMD_SOCKET
milter_default_action = accept
milter_protocol = 6
milter_connect_timeout = 10s
milter_command_timeout = 10s
milter_content_timeout = 20s
EOF
}

postfix_master_cf() {
  # Numeric ports: no dependency on /etc/services names. Chroot off everywhere (column 5 = n).
  cat <<'EOF'
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
# service type  private unpriv  chroot  wakeup  maxproc command + args
25        inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/smtp
587       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
465       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/$service_name
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# Routes out of the demo host. Everything not listed bounces (default_transport = error).
# Later work adds lines such as:  scout-returns.test  smtp:[127.0.0.1]:2525
postfix_transport() {
  cat <<EOF
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
# domain                next hop (numeric only: the demo host never does DNS)
# Returns and bounces for the local monitor (config/demo.yaml listens on 2525) and for the
# integration tests' own listener (2526).
scout-returns.test      smtp:[127.0.0.1]:2525
scout-test.test         smtp:[127.0.0.1]:2526
# The fault-injection harness and the soak (tools/faults, tools/soak) listen on 2527.
scout-faults.test       smtp:[127.0.0.1]:2527
# The AWS shape's round-trip test: its stand-in for the SES receipt rule listens on 2528
# (test/support/ses-receipt-standin.ts), as inbound-smtp.<region>.amazonaws.com would.
scout-aws.test          smtp:[127.0.0.1]:2528
# Fetch mode's mailbox is delivered by Dovecot's LMTP, where its Sieve rule files into Junk.
$(postfix_lmtp_routes)
EOF
}

postfix_aliases() {
  cat <<'EOF'
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
postmaster: root
mailer-daemon: postmaster
abuse: postmaster
# Accepted at RCPT time, then bounced by local delivery (5.1.1 unknown user): the round-trip
# tests use it to get a real DSN back, as from a server that validates recipients late.
probe-gone: ghost-no-such-user
EOF
}

# postmap/postalias only when the .db is missing or older than its source
postfix_map() {
  local tool="$1" file="$2"
  if [ ! -f "$file.db" ] || [ "$file" -nt "$file.db" ]; then
    "$tool" "hash:$file" </dev/null >>"$START_LOG" 2>&1 9>&- || die "$tool $file failed (see $START_LOG)"
  fi
}

postfix_master_pid() {
  local pid
  [ -s "$POSTFIX_PID_FILE" ] || return 1
  pid="$(tr -dc '0-9' <"$POSTFIX_PID_FILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

postfix_running() { postfix status >/dev/null 2>&1 9>&- </dev/null; }

postfix_state() {
  cat "$POSTFIX_DIR/main.cf" "$POSTFIX_DIR/master.cf" "$DEMO_DIR/server.pem" | sha256sum | cut -c1-64
}

postfix_stop() {
  if postfix_running; then
    log "stopping Postfix"
    postfix stop </dev/null >>"$START_LOG" 2>&1 9>&- || true
  fi
  local deadline=$((SECONDS + WAIT_SECONDS))
  while postfix_master_pid >/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || die "Postfix master still running after ${WAIT_SECONDS}s"
    sleep 0.2
  done
  wait_ports_closed Postfix "${POSTFIX_PORTS[@]}"
  rm -f "$DEMO_DIR/postfix.state"
}

# What `up` replaces of the machine's own Postfix configuration is kept aside the first time
# (or that it did not exist), and `down` puts it back.
KEPT_DIR="$DEMO_DIR/kept-aside"
KEPT_FILES=(main.cf master.cf)

keep_aside() {
  local name
  install -d -m 0700 "$KEPT_DIR"
  for name in "${KEPT_FILES[@]}"; do
    [ -e "$KEPT_DIR/$name" ] || [ -e "$KEPT_DIR/$name.absent" ] && continue
    if [ -e "$POSTFIX_DIR/$name" ]; then
      cp -a "$POSTFIX_DIR/$name" "$KEPT_DIR/$name"
    else
      touch "$KEPT_DIR/$name.absent"
    fi
  done
}

put_back() {
  local name
  [ -d "$KEPT_DIR" ] || return 0
  for name in "${KEPT_FILES[@]}"; do
    if [ -e "$KEPT_DIR/$name" ]; then
      mv -f "$KEPT_DIR/$name" "$POSTFIX_DIR/$name"
      log "put back $POSTFIX_DIR/$name as it was before the demo"
    elif [ -e "$KEPT_DIR/$name.absent" ]; then
      rm -f "$POSTFIX_DIR/$name" "$KEPT_DIR/$name.absent"
    fi
  done
}

postfix_up() {
  install -d -m 0755 "$POSTFIX_DIR"
  keep_aside
  postfix_main_cf | write_if_changed "$POSTFIX_DIR/main.cf" 0644 root:root
  postfix_master_cf | write_if_changed "$POSTFIX_DIR/master.cf" 0644 root:root
  postfix_transport | write_if_changed "$POSTFIX_TRANSPORT" 0644 root:root
  postfix_aliases | write_if_changed "$POSTFIX_ALIASES" 0644 root:root
  postfix_map postmap "$POSTFIX_TRANSPORT"
  postfix_map postalias "$POSTFIX_ALIASES"
  touch "$POSTFIX_LOG"
  postfix check </dev/null >>"$START_LOG" 2>&1 9>&- || die "postfix check failed (see $START_LOG)"
  local want have="" pid
  want="$(postfix_state)"
  if postfix_running && pid="$(postfix_master_pid)"; then
    [ -f "$DEMO_DIR/postfix.state" ] && have="$(cat "$DEMO_DIR/postfix.state")"
    if [ "$have" = "$pid $want" ] && all_listening "${POSTFIX_PORTS[@]}"; then
      log "Postfix already running with the demo config (pid $pid)"
      return 0
    fi
    # inet_interfaces/inet_protocols changes need a full restart, so always restart.
    postfix_stop
  else
    wait_ports_closed Postfix "${POSTFIX_PORTS[@]}"
  fi
  log "starting Postfix"
  postfix start </dev/null >>"$START_LOG" 2>&1 9>&- || die "postfix start failed (see $START_LOG, $POSTFIX_LOG)"
  local deadline=$((SECONDS + WAIT_SECONDS))
  until pid="$(postfix_master_pid)"; do
    [ "$SECONDS" -lt "$deadline" ] || die "Postfix master did not start (see $POSTFIX_LOG)"
    sleep 0.1
  done
  echo "$pid $want" >"$DEMO_DIR/postfix.state"
}

# ---------------------------------------------------------------- checks and output
tls_check() {
  local port="$1" out
  out="$(timeout 10 openssl s_client -connect "$HOST4:$port" -servername "$HOSTNAME_FQDN" \
    -CAfile "$DEMO_DIR/ca.pem" -verify_hostname "$HOSTNAME_FQDN" -verify_return_error \
    </dev/null 2>&1)" || {
    printf '%s\n' "$out" | tail -n 5 >&2
    die "TLS check on $HOST4:$port failed"
  }
  printf '%s\n' "$out" | grep -q 'Verify return code: 0 (ok)' || die "TLS check on $HOST4:$port: certificate not verified"
}

summary() {
  local v6="" l
  have_ipv6 && v6=" (also [::1])"
  cat <<EOF
Email Scout demo mail host is up on 127.0.0.1$v6:
  smtp://127.0.0.1:25          STARTTLS offered
  submission://127.0.0.1:587   STARTTLS required, AUTH SCRAM-SHA-256/SCRAM-SHA-1/CRAM-MD5/PLAIN/LOGIN/XOAUTH2/OAUTHBEARER
  smtps://127.0.0.1:465        implicit TLS, AUTH SCRAM-SHA-256/SCRAM-SHA-1/CRAM-MD5/PLAIN/LOGIN/XOAUTH2/OAUTHBEARER
  imap://127.0.0.1:143         STARTTLS
  imaps://127.0.0.1:993        implicit TLS
  pop3://127.0.0.1:110         STLS
  pop3s://127.0.0.1:995        implicit TLS
CA file:      $DEMO_DIR/ca.pem
Server cert:  CN=$HOSTNAME_FQDN, not after $(cert_not_after_iso), $(cert_days_left) days left
Users:
EOF
  for l in "${DEMO_USERS[@]}"; do
    printf '  %-6s %s@%s  password file %s\n' "$l" "$l" "$DOMAIN" "$DEMO_DIR/$l.password"
  done
  for l in "${PIPE_USERS[@]}"; do
    printf '  %-6s %s@%s  (no login: ~/.forward pipe only)\n' "$l" "$l" "$DOMAIN"
  done
  cat <<EOF
Fetch mailbox: probe-fetch is delivered by Dovecot LMTP; Sieve ($SIEVE_SCRIPT) files
              X-Scout-Target: junk-* and probe-fetch+junk@ into Junk (\\Junk)
OAuth:        $OAUTH_URL/token (client credentials: client probe-fetch, secret file
              $DEMO_DIR/probe-fetch.oauth-secret); IMAP/POP3 XOAUTH2 and OAUTHBEARER
DKIM:         OpenDKIM verifies on $OPENDKIM_SOCKET (authserv-id $AUTHSERV_ID), keys from NSD
              on $HOST4:$DNS_PORT; demo key $DKIM_KEY, selector $DKIM_SELECTOR, for
              ${DKIM_DOMAINS[*]}
rspamd:       milter on $RSPAMD_SOCKET (authserv-id $AUTHSERV_ID): spf, dkim, dmarc and its spam
              score; SPF and DMARC (p=reject) in NSD for the domains above; $DMARC_FAIL_DOMAIN
              fails DMARC
Logs:         $POSTFIX_LOG, $DOVECOT_LOG, $OAUTH_LOG, $NSD_LOG, $RSPAMD_LOG
EOF
}

prepare_state_dir() {
  install -d -m 0755 "$DEMO_DIR"
}

# Serialize up/down: fd 9 holds the lock; daemons are always started with 9>&-.
take_lock() {
  exec 9>"$DEMO_DIR/.lock"
  flock -w 300 9 || die "another demo-mailhost.sh is still running (lock $DEMO_DIR/.lock)"
}

cmd_up() {
  require_root
  prepare_state_dir
  take_lock
  trap remove_own_policy EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  install_packages
  # A certificate left swapped by a fault hook: back to the demo one, and make the running
  # daemons serve it (their recorded state already names it, so *_up would not restart them).
  if restore_kept_cert; then reload_daemons; fi
  ensure_certs
  ensure_users
  dkim_verifier_up
  spam_filter_up
  oauth_up
  dovecot_up
  postfix_up
  wait_ports_accept Dovecot "${DOVECOT_PORTS[@]}"
  wait_ports_accept Postfix "${POSTFIX_PORTS[@]}"
  local port
  for port in 465 993 995; do tls_check "$port"; done
  summary
}

cmd_down() {
  require_root
  prepare_state_dir
  take_lock
  if command -v dovecot >/dev/null 2>&1; then dovecot_stop; fi
  if command -v postfix >/dev/null 2>&1; then postfix_stop; fi
  spam_filter_down
  dkim_verifier_down
  oauth_down
  put_back
  log "demo mail host is down"
}

cmd_stop_dovecot() {
  require_root
  prepare_state_dir
  take_lock
  dovecot_stop
}

cmd_stop_postfix() {
  require_root
  prepare_state_dir
  take_lock
  postfix_stop
}

cmd_status() {
  local rc=0 pid port state
  if command -v dovecot >/dev/null 2>&1 && pid="$(dovecot_master_pid)"; then
    if [ "$(cut -d' ' -f1 "$DEMO_DIR/dovecot.state" 2>/dev/null)" = "$pid" ]; then
      echo "dovecot: running (master pid $pid, config $DOVECOT_CONF)"
    else
      echo "dovecot: running (master pid $pid) but NOT started by this script (run 'up')"
      rc=1
    fi
  else
    echo "dovecot: not running"
    rc=1
  fi
  if command -v postfix >/dev/null 2>&1 && postfix_running && pid="$(postfix_master_pid)"; then
    echo "postfix: running (master pid $pid, config $POSTFIX_DIR)"
  else
    echo "postfix: not running"
    rc=1
  fi
  daemon_status opendkim "$OPENDKIM_PID_FILE" "$OPENDKIM_PORT" || rc=1
  daemon_status rspamd "$RSPAMD_PID_FILE" "$RSPAMD_PORT" || rc=1
  daemon_status nsd "$NSD_PID_FILE" "$DNS_PORT" || rc=1
  daemon_status oauth "$OAUTH_PID_FILE" "$OAUTH_PORT" || rc=1
  for port in "${POSTFIX_PORTS[@]}" "${DOVECOT_PORTS[@]}"; do
    if port_listening "$port"; then
      state="listening"
      if command -v ss >/dev/null 2>&1; then
        state="listening on $(ss -Hltn "sport = :$port" | awk '{print $4}' | paste -sd' ')"
      fi
    else
      state="closed"
      rc=1
    fi
    printf '  port %-4s %s\n' "$port" "$state"
  done
  return "$rc"
}

cmd_env() {
  if [ ! -s "$DEMO_DIR/server.pem" ] || [ ! -s "$DEMO_DIR/ca.pem" ]; then
    die "no demo certificate in $DEMO_DIR: run '$0 up' first"
  fi
  local ipv6=0
  have_ipv6 && ipv6=1
  printf 'export SCOUT_DEMO_DIR=%q\n' "$DEMO_DIR"
  printf 'export SCOUT_DEMO_CA=%q\n' "$DEMO_DIR/ca.pem"
  printf 'export SCOUT_DEMO_CERT_DAYS_LEFT=%q\n' "$(cert_days_left)"
  printf 'export SCOUT_DEMO_CERT_NOT_AFTER=%q\n' "$(cert_not_after_iso)"
  printf 'export SCOUT_DEMO_HOSTNAME=%q\n' "$HOSTNAME_FQDN"
  printf 'export SCOUT_DEMO_DOMAIN=%q\n' "$DOMAIN"
  printf 'export SCOUT_DEMO_USER=%q\n' "scout"
  printf 'export SCOUT_DEMO_PASSWORD_FILE=%q\n' "$DEMO_DIR/scout.password"
  printf 'export SCOUT_DEMO_PROBE_USER=%q\n' "probe"
  printf 'export SCOUT_DEMO_PROBE_PASSWORD_FILE=%q\n' "$DEMO_DIR/probe.password"
  printf 'export SCOUT_DEMO_FETCH_USER=%q\n' "probe-fetch"
  printf 'export SCOUT_DEMO_FETCH_PASSWORD_FILE=%q\n' "$DEMO_DIR/probe-fetch.password"
  printf 'export SCOUT_DEMO_FETCH_OAUTH_TOKEN_URL=%q\n' "$OAUTH_URL/token"
  printf 'export SCOUT_DEMO_FETCH_OAUTH_CLIENT_ID=%q\n' "probe-fetch"
  printf 'export SCOUT_DEMO_FETCH_OAUTH_SECRET_FILE=%q\n' "$DEMO_DIR/probe-fetch.oauth-secret"
  printf 'export SCOUT_DEMO_FETCH_OAUTH_SHORTLIVED_CLIENT_ID=%q\n' "$OAUTH_SHORTLIVED_CLIENT"
  printf 'export SCOUT_DEMO_FETCH_OAUTH_SHORTLIVED_SECRET_FILE=%q\n' "$DEMO_DIR/$OAUTH_SHORTLIVED_CLIENT.oauth-secret"
  printf 'export SCOUT_DEMO_OAUTH_REVOKE_URL=%q\n' "$OAUTH_URL/revoke"
  printf 'export SCOUT_DEMO_AUTHSERV_ID=%q\n' "$AUTHSERV_ID"
  printf 'export SCOUT_DEMO_DKIM_SELECTOR=%q\n' "$DKIM_SELECTOR"
  printf 'export SCOUT_DEMO_DKIM_KEY=%q\n' "$DKIM_KEY"
  printf 'export SCOUT_DEMO_DKIM_DOMAINS=%s\n' "$(IFS=, && echo "${DKIM_DOMAINS[*]}")"
  printf 'export SCOUT_DEMO_DMARC_FAIL_DOMAIN=%q\n' "$DMARC_FAIL_DOMAIN"
  printf 'export SCOUT_DEMO_HOST=%q\n' "$HOST4"
  printf 'export SCOUT_DEMO_IPV6=%q\n' "$ipv6"
}

main() {
  local cmd="${1:-up}"
  case "$cmd" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  stop-dovecot) cmd_stop_dovecot ;;
  stop-postfix) cmd_stop_postfix ;;
  cert-install) cmd_cert_install "${2:-}" "${3:-}" ;;
  cert-restore) cmd_cert_restore ;;
  -h | --help | help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (use: up | down | status | env | stop-dovecot | stop-postfix | cert-install | cert-restore)" ;;
  esac
}

main "$@"
