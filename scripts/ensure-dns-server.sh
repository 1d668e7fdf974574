#!/usr/bin/env bash
# Installs what the DNS posture tests run, when it is missing: Debian's NSD (authoritative),
# unbound (a validating resolver) and ldnsutils (ldns-keygen, ldns-signzone to sign a test
# zone). The tests run nsd and unbound as child processes on 127.0.0.1 with configuration they
# write (never as system services): the install keeps the packages' services from starting.
# Idempotent; needs root only when it has to install.
set -euo pipefail

# Each package with the binary that shows it is installed.
PACKAGES=(nsd unbound ldnsutils)
BINARIES=(/usr/sbin/nsd /usr/sbin/unbound /usr/bin/ldns-signzone)

missing=()
for i in "${!PACKAGES[@]}"; do
  [ -x "${BINARIES[$i]}" ] || missing+=("${PACKAGES[$i]}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-dns-server: ${missing[*]} missing; install as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
LOG=/var/log/email-scout-nsd-install.log
echo "ensure-dns-server: installing Debian's ${missing[*]} (log: $LOG)" >&2
export DEBIAN_FRONTEND=noninteractive

# invoke-rc.d asks policy-rc.d whether a package's service may start; 101 says no. Without
# it, unbound's postinst would start a system resolver on port 53. A policy-rc.d already in
# place (containers have one) is left as it is; one written here is removed afterwards.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  trap 'rm -f "$POLICY"' EXIT
fi

apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends install "${missing[@]}")
if ! "${apt[@]}" </dev/null >>"$LOG" 2>&1; then
  echo "ensure-dns-server: package lists stale or missing: apt-get update, then retry" >&2
  apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null >>"$LOG" 2>&1 || {
    tail -n 20 "$LOG" >&2
    echo "ensure-dns-server: apt-get update failed (see $LOG)" >&2
    exit 1
  }
  "${apt[@]}" </dev/null >>"$LOG" 2>&1 || {
    tail -n 20 "$LOG" >&2
    echo "ensure-dns-server: apt-get install ${missing[*]} failed (see $LOG)" >&2
    exit 1
  }
fi
for i in "${!PACKAGES[@]}"; do
  [ -x "${BINARIES[$i]}" ] || {
    echo "ensure-dns-server: ${PACKAGES[$i]} installed but ${BINARIES[$i]} is missing" >&2
    exit 1
  }
done
