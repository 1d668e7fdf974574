# Sourced by scripts/demo-mailhost.sh: fetch mode's mailbox is delivered by Dovecot's LMTP
# (Postfix's transport_maps route it there), and a Sieve rule (Pigeonhole, Debian's
# dovecot-sieve) files some of its mail into Junk, the \Junk special-use folder, as a
# receiver's spam filter would. Every other mailbox stays with Postfix's local(8) and ~/.forward.

LMTP_USERS=(probe-fetch)
LMTP_SOCKET="private/dovecot-lmtp"
SIEVE_DIR="$DEMO_DIR/sieve"
SIEVE_SCRIPT="$SIEVE_DIR/junk-filing.sieve"

# The rule, run before any script of the user's own (sieve_before). Two ways a test chooses:
#  - a header the sender sets: fetch mode writes the target id into X-Scout-Target, so the
#    probes of targets whose id starts with "junk-" are filed into Junk;
#  - the address detail: mail to probe-fetch+junk@scout.test (for `email-scout probe`, whose
#    probes all name the target "probe").
sieve_rule() {
  cat <<'SIEVE'
# Managed by scripts/demo-mailhost.sh (Email Scout demo mail host). Do not edit: rewritten on "up".
require ["fileinto", "envelope", "subaddress"];

if anyof (header :matches "X-Scout-Target" "junk-*", envelope :detail "to" "junk") {
  fileinto "Junk";
  stop;
}
SIEVE
}

dovecot_lmtp_sieve_config() {
  cat <<CONF
# Fetch mode's mailbox: Postfix hands its mail to LMTP ($LMTP_SOCKET), the Sieve
# rule in $SIEVE_SCRIPT files some of it into Junk.
recipient_delimiter = +
# LMTP's Received header names the host as Postfix's does (not the machine's name).
hostname = $HOSTNAME_FQDN
lda_mailbox_autocreate = yes
postmaster_address = postmaster@$DOMAIN
protocol lmtp {
  mail_plugins = \$mail_plugins sieve
}
plugin {
  sieve_before = $SIEVE_SCRIPT
}
service lmtp {
  unix_listener /var/spool/postfix/$LMTP_SOCKET {
    mode = 0600
    user = postfix
    group = postfix
  }
}
CONF
}

# transport_maps lines: user@domain also matches user+detail@domain (recipient_delimiter).
postfix_lmtp_routes() {
  local u
  for u in "${LMTP_USERS[@]}"; do
    printf '%-23s lmtp:unix:%s\n' "$u@$DOMAIN" "$LMTP_SOCKET"
  done
}

# The script and its compiled form (sievec as root: LMTP runs as the user and could not
# write the .svbin next to it, so it would compile the script at every delivery).
sieve_files() {
  install -d -m 0755 "$SIEVE_DIR"
  sieve_rule | write_if_changed "$SIEVE_SCRIPT" 0644 root:root
  local bin="${SIEVE_SCRIPT%.sieve}.svbin"
  if [ ! -s "$bin" ] || [ "$SIEVE_SCRIPT" -nt "$bin" ]; then
    sievec -c "$DOVECOT_CONF" "$SIEVE_SCRIPT" "$bin" </dev/null >>"$START_LOG" 2>&1 9>&- ||
      die "sievec $SIEVE_SCRIPT failed (see $START_LOG)"
    chmod 0644 "$bin"
  fi
}
