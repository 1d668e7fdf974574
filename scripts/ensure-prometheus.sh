#!/usr/bin/env bash
# Installs Debian's Prometheus server for the /probe integration test, when it is missing.
# The test runs /usr/bin/prometheus itself (a child process on loopback); the package's
# systemd service is neither needed nor started (policy-rc.d keeps it from starting where
# systemd does run). Idempotent; needs root only when it has to install.
set -euo pipefail

if [ -x /usr/bin/prometheus ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-prometheus: /usr/bin/prometheus is missing; install it as root: apt-get install prometheus" >&2
  exit 1
fi
LOG=/var/log/email-scout-prometheus-install.log
echo "ensure-prometheus: installing Debian's prometheus (log: $LOG)" >&2
export DEBIAN_FRONTEND=noninteractive
# Exit code 101 from policy-rc.d: "action forbidden", so the package's service is not started.
policy=/usr/sbin/policy-rc.d
keep_policy=""
if [ -e "$policy" ]; then keep_policy=1; else printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"; fi
restore_policy() { [ -n "$keep_policy" ] || rm -f "$policy"; }
trap restore_policy EXIT
apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends install prometheus)
if ! "${apt[@]}" </dev/null >>"$LOG" 2>&1; then
  echo "ensure-prometheus: package lists stale or missing: apt-get update, then retry" >&2
  apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null >>"$LOG" 2>&1 || {
    tail -n 20 "$LOG" >&2
    echo "ensure-prometheus: apt-get update failed (see $LOG)" >&2
    exit 1
  }
  "${apt[@]}" </dev/null >>"$LOG" 2>&1 || {
    tail -n 20 "$LOG" >&2
    echo "ensure-prometheus: apt-get install prometheus failed (see $LOG)" >&2
    exit 1
  }
fi
[ -x /usr/bin/prometheus ] || { echo "ensure-prometheus: prometheus installed but /usr/bin/prometheus is missing" >&2; exit 1; }
