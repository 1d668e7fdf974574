# Sourced by scripts/demo-mailhost.sh: a real DKIM verifier for mail arriving at the demo host.
# OpenDKIM (verify mode) is Postfix's milter on loopback and stamps
#   Authentication-Results: mail.scout.test; dkim=pass|fail|none ...
# on every message received over SMTP. It finds signing keys in DNS: NSD serves the zone
# "test." on 127.0.0.1:$DNS_PORT (authoritative, from a zone file made here), and OpenDKIM's
# resolver (libunbound, ResolverConfiguration) sends every *.test question there and answers
# every other name NXDOMAIN at once: the demo host never asks a resolver outside loopback.
# The zone also holds SPF and DMARC records, which rspamd reads (demo-mailhost/spam-filter.sh).
#
# The demo DKIM key: $DKIM_KEY (RSA 2048, PEM, mode 0600) is published as
# $DKIM_SELECTOR._domainkey.<domain> for each of DKIM_DOMAINS, so a monitor configured with
# outbound.dkim { domain: <one of them>, selector: $DKIM_SELECTOR, privateKeyFile: $DKIM_KEY }
# gets dkim=pass. Any other selector or domain under .test gets OpenDKIM's "no key" verdict.
#
# Gotchas: without syslog OpenDKIM logs nothing (its only log channel); the milter's verdicts
# are the headers. OpenDKIM signs rather than verifies mail from InternalHosts (default
# 127.0.0.1), so InternalHosts names a documentation address only. No DNSSEC: OpenDKIM notes
# the key as "unprotected". Measured verdicts: a key it finds and a body that matches give
# "dkim=pass (2048-bit key; unprotected) header.d=...", an unpublished selector "dkim=fail
# reason="key not found in DNS"", unsigned mail "dkim=none". opendkim-testkey -x reads the same
# ResolverConfiguration, so `up` checks the published key with it.

AUTHSERV_ID="$HOSTNAME_FQDN"
DKIM_SELECTOR="demo"
# The monitor's inbound domains in config/demo.yaml and the integration tests.
DKIM_DOMAINS=(scout-fetch.test scout-test.test scout-returns.test scout-faults.test)
# A From domain whose probes fail DMARC (p=reject, "v=spf1 -all", no DKIM key).
DMARC_FAIL_DOMAIN="scout-unsigned.test"
DKIM_DIR="$DEMO_DIR/dkim"
DKIM_KEY="$DKIM_DIR/$DKIM_SELECTOR.private"
DNS_PORT=10053
NSD_RUN_DIR="/run/email-scout-demo-nsd"
NSD_PID_FILE="$NSD_RUN_DIR/nsd.pid"
NSD_LOG="/var/log/email-scout-demo-nsd.log"
OPENDKIM_RUN_DIR="/run/email-scout-demo-opendkim"
# A unix socket, not TCP: over loopback TCP, libmilter's small replies met Postfix's delayed
# ACKs (Nagle) and every message waited 40 ms twice in the milter (measured: a mail
# transaction of 90 ms with it, 10 ms without).
OPENDKIM_SOCKET="$OPENDKIM_RUN_DIR/opendkim.sock"
OPENDKIM_PORT="$OPENDKIM_SOCKET"
OPENDKIM_PID_FILE="$OPENDKIM_RUN_DIR/opendkim.pid"
OPENDKIM_LOG="$START_LOG"

dkim_key_ok() {
  [ -s "$DKIM_KEY" ] && openssl pkey -in "$DKIM_KEY" -noout 2>/dev/null &&
    [ "$(openssl pkey -in "$DKIM_KEY" -text_pub -noout 2>/dev/null | head -n 1)" = "Public-Key: (2048 bit)" ]
}

ensure_dkim_key() {
  install -d -m 0755 "$DKIM_DIR"
  dkim_key_ok && return 0
  log "creating the demo DKIM key ($DKIM_KEY)"
  (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DKIM_KEY.new" 2>/dev/null)
  mv -f "$DKIM_KEY.new" "$DKIM_KEY"
  chmod 0600 "$DKIM_KEY"
}

# The TXT record's p= value: the DER SubjectPublicKeyInfo, base64 (RFC 6376 §3.6.1)
dkim_public_b64() { openssl pkey -in "$DKIM_KEY" -pubout -outform DER 2>/dev/null | base64 -w0; }

dns_zone() {
  local p domain chunks=""
  p="$(dkim_public_b64)"
  # A TXT string holds at most 255 characters: the key goes in pieces, joined by the reader.
  while [ -n "$p" ]; do
    chunks+=" \"${p:0:200}\""
    p="${p:200}"
  done
  cat <<ZONE
; Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
\$ORIGIN test.
\$TTL 60
@ IN SOA ns.scout-dns.test. hostmaster.scout.test. 1 3600 600 86400 60
@ IN NS ns.scout-dns.test.
ns.scout-dns IN A 127.0.0.1
ZONE
  for domain in "${DKIM_DOMAINS[@]}"; do
    printf '%s._domainkey.%s IN TXT ( "v=DKIM1; k=rsa; " "p="%s )\n' "$DKIM_SELECTOR" "${domain%.test}" "$chunks"
    # SPF and DMARC for rspamd (demo-mailhost/spam-filter.sh): mail from the loopback passes SPF,
    # and with the monitor's DKIM signature or SPF aligned, DMARC.
    printf '%s IN TXT "v=spf1 ip4:127.0.0.0/8 ip6:::1 -all"\n' "${domain%.test}"
    printf '_dmarc.%s IN TXT "v=DMARC1; p=reject"\n' "${domain%.test}"
  done
  # A From domain that fails DMARC: no DKIM key, no host may send for it, p=reject.
  printf '%s IN TXT "v=spf1 -all"\n' "${DMARC_FAIL_DOMAIN%.test}"
  printf '_dmarc.%s IN TXT "v=DMARC1; p=reject"\n' "${DMARC_FAIL_DOMAIN%.test}"
}

nsd_config() {
  cat <<CONF
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
server:
  ip-address: $HOST4@$DNS_PORT
  port: $DNS_PORT
  username: nsd
  chroot: ""
  zonesdir: "$DKIM_DIR"
  database: ""
  zonelistfile: "$NSD_RUN_DIR/zone.list"
  xfrdfile: "$NSD_RUN_DIR/xfrd.state"
  xfrdir: "$NSD_RUN_DIR"
  pidfile: "$NSD_PID_FILE"
  logfile: "$NSD_LOG"
  server-count: 1
  verbosity: 1
  hide-version: yes
remote-control:
  control-enable: no
zone:
  name: "test"
  zonefile: "test.zone"
CONF
}

# libunbound's configuration for OpenDKIM (unbound.conf syntax).
opendkim_resolver_config() {
  cat <<CONF
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
server:
  do-not-query-localhost: no
  # Every name outside .test is answered NXDOMAIN here, never asked outside loopback.
  local-zone: "." static
  local-zone: "test." transparent
stub-zone:
  name: "test."
  stub-addr: $HOST4@$DNS_PORT
CONF
}

opendkim_config() {
  cat <<CONF
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
# Verify only; Postfix's smtpd_milters names this socket.
Mode                  v
Socket                local:$OPENDKIM_SOCKET
PidFile               $OPENDKIM_PID_FILE
UserID                opendkim:opendkim
# The socket is Postfix's to connect to (smtpd runs as postfix); its directory is 0755.
UMask                 000
Syslog                no
AuthservID            $AUTHSERV_ID
# dkim=none on unsigned mail too, so every message carries the verifier's word.
AlwaysAddARHeader     yes
ResolverConfiguration $DKIM_DIR/unbound.conf
# Mail from these hosts would be signed, not verified: none of ours.
InternalHosts         csl:192.0.2.1
# Mail always flows; the verdict is in Authentication-Results.
On-Default            accept
On-BadSignature       accept
On-DNSError           accept
On-KeyNotFound        accept
On-NoSignature        accept
On-InternalError      accept
On-Security           accept
On-SignatureError     accept
CONF
}

dkim_verifier_files() {
  ensure_dkim_key
  dns_zone | write_if_changed "$DKIM_DIR/test.zone" 0644 root:root
  nsd_config | write_if_changed "$DKIM_DIR/nsd.conf" 0644 root:root
  opendkim_resolver_config | write_if_changed "$DKIM_DIR/unbound.conf" 0644 root:root
  opendkim_config | write_if_changed "$DKIM_DIR/opendkim.conf" 0644 root:root
}

nsd_up() {
  local want
  want="$(cat "$DKIM_DIR/nsd.conf" "$DKIM_DIR/test.zone" | sha256sum | cut -c1-64)"
  if daemon_current nsd "$NSD_PID_FILE" "$want" "$DNS_PORT"; then
    log "NSD already running with the demo zone (pid $(pid_from_file "$NSD_PID_FILE"))"
    return 0
  fi
  daemon_stop nsd "$NSD_PID_FILE" "$DNS_PORT"
  nsd-checkconf "$DKIM_DIR/nsd.conf" >>"$START_LOG" 2>&1 || die "nsd-checkconf $DKIM_DIR/nsd.conf failed (see $START_LOG)"
  nsd-checkzone test "$DKIM_DIR/test.zone" >>"$START_LOG" 2>&1 || die "nsd-checkzone $DKIM_DIR/test.zone failed (see $START_LOG)"
  install -d -m 0755 -o nsd -g nsd "$NSD_RUN_DIR"
  touch "$NSD_LOG"
  chown nsd:nsd "$NSD_LOG"
  log "starting NSD on $HOST4:$DNS_PORT (zone test.)"
  nsd -c "$DKIM_DIR/nsd.conf" </dev/null >>"$START_LOG" 2>&1 9>&- || die "nsd did not start (see $START_LOG, $NSD_LOG)"
  daemon_started nsd "$NSD_PID_FILE" "$want" "$DNS_PORT" "$NSD_LOG"
}

opendkim_up() {
  local want
  want="$(cat "$DKIM_DIR/opendkim.conf" "$DKIM_DIR/unbound.conf" | sha256sum | cut -c1-64)"
  if daemon_current opendkim "$OPENDKIM_PID_FILE" "$want" "$OPENDKIM_PORT"; then
    log "OpenDKIM already running with the demo config (pid $(pid_from_file "$OPENDKIM_PID_FILE"))"
    return 0
  fi
  daemon_stop opendkim "$OPENDKIM_PID_FILE" "$OPENDKIM_PORT"
  opendkim -n -x "$DKIM_DIR/opendkim.conf" >>"$START_LOG" 2>&1 || die "opendkim -n: $DKIM_DIR/opendkim.conf is invalid (see $START_LOG)"
  install -d -m 0755 -o opendkim -g opendkim "$OPENDKIM_RUN_DIR"
  log "starting OpenDKIM (verify) on $OPENDKIM_SOCKET, authserv-id $AUTHSERV_ID"
  opendkim -x "$DKIM_DIR/opendkim.conf" </dev/null >>"$START_LOG" 2>&1 9>&- || die "opendkim did not start (see $START_LOG)"
  daemon_started opendkim "$OPENDKIM_PID_FILE" "$want" "$OPENDKIM_PORT" "$OPENDKIM_LOG"
}

# opendkim-testkey, through OpenDKIM's own resolver settings: NSD answers with the key that
# matches $DKIM_KEY for every domain, or `up` fails here rather than in a test's verdict.
dkim_keys_published() {
  local domain out
  for domain in "${DKIM_DOMAINS[@]}"; do
    out="$(opendkim-testkey -d "$domain" -s "$DKIM_SELECTOR" -k "$DKIM_KEY" -x "$DKIM_DIR/opendkim.conf" 2>&1)" ||
      die "the demo DKIM key is not published for $domain: $out (see $NSD_LOG)"
  done
}

dkim_verifier_up() {
  dkim_verifier_files
  nsd_up
  dkim_keys_published
  opendkim_up
}

dkim_verifier_down() {
  daemon_stop opendkim "$OPENDKIM_PID_FILE" "$OPENDKIM_PORT"
  daemon_stop nsd "$NSD_PID_FILE" "$DNS_PORT"
  rm -rf "$OPENDKIM_RUN_DIR" "$NSD_RUN_DIR"
}
