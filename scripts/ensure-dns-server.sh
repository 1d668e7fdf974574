#!/usr/bin/env bash
# Installs Debian's NSD for the DNS posture tests, when it is missing. The tests run it as a
# child process on 127.0.0.1 with zone files they write (never as a system service).
# Idempotent; needs root only when it has to install.
set -euo pipefail

if [ -x /usr/sbin/nsd ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-dns-server: /usr/sbin/nsd is missing; install it as root: apt-get install nsd" >&2
  exit 1
fi
LOG=/var/log/email-scout-nsd-install.log
echo "ensure-dns-server: installing Debian's nsd (log: $LOG)" >&2
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends install nsd)
if ! "${apt[@]}" </dev/null >>"$LOG" 2>&1; then
  echo "ensure-dns-server: package lists stale or missing: apt-get update, then retry" >&2
  apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null >>"$LOG" 2>&1 || {
    tail -n 20 "$LOG" >&2
    echo "ensure-dns-server: apt-get update failed (see $LOG)" >&2
    exit 1
  }
  "${apt[@]}" </dev/null >>"$LOG" 2>&1 || {
    tail -n 20 "$LOG" >&2
    echo "ensure-dns-server: apt-get install nsd failed (see $LOG)" >&2
    exit 1
  }
fi
[ -x /usr/sbin/nsd ] || { echo "ensure-dns-server: nsd installed but /usr/sbin/nsd is missing" >&2; exit 1; }
