# The facts file the peer-matrix tests read ($SCOUT_PEERS). Sourced by scripts/peer-servers.sh.
# Per server: its version, whether the peer login works there, the healthy endpoints, one
# endpoint per fault, and the files that switch a fault on.
write_facts() {
  local h="$HOST" version
  version() { dpkg-deb -f "$CACHE_DIR/debs/$1"_*.deb Version | sed 's/^[0-9]*://; s/[-+].*//'; }
  cat <<EOF | write_if_changed "$PEERS_DIR/peers.json" 0644 root:root
{
  "host": "$h",
  "caFile": "$PEERS_DIR/ca.pem",
  "user": "$PEER_USER",
  "passwordFile": "$PEERS_DIR/peer.password",
  "servers": {
    "exim": {
      "product": "Exim $(version exim4-daemon-light)",
      "healthy": ["submission://$h:2625", "smtps://$h:2626"],
      "login": true,
      "noStartTls": "submission://$h:2627",
      "wrongCert": "submission://$h:2628",
      "tlsRequired": "submission://$h:2625?starttls=off",
      "maintenanceFile": "$EXIM_MAINTENANCE_FILE"
    },
    "sendmail": {
      "product": "Sendmail $(version sendmail-bin)",
      "healthy": ["smtp://$h:2630"],
      "login": false,
      "noStartTls": "smtp://$h:2631",
      "wrongCert": "smtp://$h:2632"
    },
    "cyrus": {
      "product": "Cyrus IMAP $(version cyrus-imapd)",
      "healthy": ["imap://$h:2640", "imaps://$h:2641", "pop3://$h:2642", "pop3s://$h:2643"],
      "login": true,
      "noStartTls": "imap://$h:2645",
      "noStls": "pop3://$h:2646",
      "wrongCert": "imap://$h:2644",
      "tlsRequired": "imap://$h:2640?starttls=off",
      "tlsRequiredPop3": "pop3://$h:2642?starttls=off",
      "shutdownFile": "$CYRUS_SHUTDOWN_FILE"
    },
    "mailutils": {
      "product": "GNU Mailutils $(version mailutils-imap4d)",
      "healthy": ["imap://$h:2650", "imaps://$h:2654", "pop3://$h:2655", "pop3s://$h:2659"],
      "login": true,
      "noStartTls": "imap://$h:2653",
      "noStls": "pop3://$h:2658",
      "wrongCert": "imap://$h:2652",
      "wrongCertPop3": "pop3://$h:2657",
      "tlsRequired": "imap://$h:2651?starttls=off",
      "tlsRequiredPop3": "pop3://$h:2656?starttls=off",
      "pop3sPort": 2659
    },
    "courier": {
      "product": "Courier-IMAP $(version courier-imap)",
      "healthy": ["imap://$h:2660", "imaps://$h:2661", "pop3://$h:2665", "pop3s://$h:2666"],
      "login": true,
      "noStartTls": "imap://$h:2664",
      "noStls": "pop3://$h:2669",
      "wrongCert": "imap://$h:2663",
      "wrongCertPop3": "pop3://$h:2668",
      "tlsRequired": "imap://$h:2662?starttls=off",
      "tlsRequiredPop3": "pop3://$h:2667?starttls=off"
    }
  }
}
EOF
}
