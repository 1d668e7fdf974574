#!/usr/bin/env bash
# Installs `email-scout serve` as a hardened systemd service (docs/systemd/email-scout.service).
#
#   sudo bash scripts/install-systemd.sh [--config FILE] [--bin PATH] [--data-dir DIR] [--low-port]
#                                        [--root DIR]
#
#   --config FILE   the configuration serve reads (default /etc/email-scout/scout.yaml); its
#                   dataDir must be --data-dir, the one directory the service may write
#   --bin PATH      the email-scout executable (default: `command -v email-scout`, else
#                   /usr/local/bin/email-scout); node is found through its #! line
#   --data-dir DIR  default /var/lib/email-scout (created 0700, owned by the service user)
#   --low-port      the SMTP listener (inbound.port) is below 1024, e.g. 25: adds the
#                   port-25.conf drop-in granting CAP_NET_BIND_SERVICE and nothing more
#   --root DIR      install under DIR instead of / and skip the user and systemctl steps
#                   (to inspect or package the result)
# Creates the system user email-scout when missing. Run `systemctl daemon-reload` and
# `systemctl enable --now email-scout` afterwards (it prints both).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config=/etc/email-scout/scout.yaml
bin="$(command -v email-scout || echo /usr/local/bin/email-scout)"
data_dir=/var/lib/email-scout
low_port=no
root=""

die() { echo "install-systemd: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    --bin) bin="${2:?--bin needs a path}"; shift 2 ;;
    --data-dir) data_dir="${2:?--data-dir needs a directory}"; shift 2 ;;
    --low-port) low_port=yes; shift ;;
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case "$config$bin$data_dir" in *[[:space:]]*) die "paths with spaces are not supported" ;; esac
for p in "$config" "$bin" "$data_dir"; do
  case "$p" in /*) ;; *) die "$p: give an absolute path" ;; esac
done
if [ -z "$root" ]; then
  [ "$(id -u)" = 0 ] || die "run as root (sudo), or with --root DIR to stage the files"
  [ -x "$bin" ] || die "$bin is not an executable: install Email Scout first (npm install -g, or --bin PATH)"
  [ -f "$config" ] || die "$config does not exist: write the configuration first (see config/demo.yaml)"
fi

unit_dir="$root/etc/systemd/system"
mkdir -p "$unit_dir" "$root$data_dir"
sed -e "s#^ExecStart=.*#ExecStart=$bin serve --config $config#" \
    -e "s#^ReadWritePaths=.*#ReadWritePaths=$data_dir#" \
    "$here/docs/systemd/email-scout.service" > "$unit_dir/email-scout.service.tmp"
if [ "$data_dir" != /var/lib/email-scout ]; then
  # StateDirectory= only names directories under /var/lib; another place is made here instead.
  sed -i -e '/^StateDirectory/d' "$unit_dir/email-scout.service.tmp"
fi
mv "$unit_dir/email-scout.service.tmp" "$unit_dir/email-scout.service"
if [ "$low_port" = yes ]; then
  mkdir -p "$unit_dir/email-scout.service.d"
  cp "$here/docs/systemd/port-25.conf" "$unit_dir/email-scout.service.d/port-25.conf"
else
  rm -f "$unit_dir/email-scout.service.d/port-25.conf"
fi
chmod 0700 "$root$data_dir"

if [ -z "$root" ]; then
  if ! id email-scout >/dev/null 2>&1; then
    useradd --system --home-dir "$data_dir" --no-create-home --shell /usr/sbin/nologin email-scout
  fi
  chown email-scout:email-scout "$data_dir"
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
fi
echo "installed $unit_dir/email-scout.service (serve --config $config, data in $data_dir)"
echo "next: systemctl daemon-reload && systemctl enable --now email-scout"
