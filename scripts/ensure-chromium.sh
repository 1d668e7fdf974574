#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser test, when it is missing.
# The test drives /usr/bin/chromium with playwright-core: never a downloaded browser.
# Idempotent; needs root only when it has to install.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: /usr/bin/chromium is missing; install it as root: apt-get install chromium" >&2
  exit 1
fi
LOG=/var/log/email-scout-chromium-install.log
echo "ensure-chromium: installing Debian's chromium (log: $LOG)" >&2
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends install chromium)
if ! "${apt[@]}" </dev/null >>"$LOG" 2>&1; then
  echo "ensure-chromium: package lists stale or missing: apt-get update, then retry" >&2
  apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null >>"$LOG" 2>&1 || {
    tail -n 20 "$LOG" >&2
    echo "ensure-chromium: apt-get update failed (see $LOG)" >&2
    exit 1
  }
  "${apt[@]}" </dev/null >>"$LOG" 2>&1 || {
    tail -n 20 "$LOG" >&2
    echo "ensure-chromium: apt-get install chromium failed (see $LOG)" >&2
    exit 1
  }
fi
[ -x /usr/bin/chromium ] || { echo "ensure-chromium: chromium installed but /usr/bin/chromium is missing" >&2; exit 1; }
