# Debian packages for the peer servers: the libraries are installed, the servers fetched and
# unpacked (they conflict with Postfix or Dovecot). Sourced by scripts/peer-servers.sh.

pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

remove_own_policy() {
  if [ -f "$POLICY_RC_D" ] && grep -qF "$POLICY_MARK" "$POLICY_RC_D" 2>/dev/null; then
    rm -f "$POLICY_RC_D"
  fi
}

apt_update() {
  log "apt-get update (log: $INSTALL_LOG)"
  apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null >>"$INSTALL_LOG" 2>&1 9>&- ||
    die "apt-get update failed (see $INSTALL_LOG)"
}

install_packages() {
  local missing=() p
  for p in "${INSTALL_PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]} (log: $INSTALL_LOG)"
  export DEBIAN_FRONTEND=noninteractive
  # courier-authdaemon's postinst would start Debian's authdaemond: keep it from doing so,
  # with our own policy-rc.d only when there is none (an existing one is left alone).
  if [ ! -e "$POLICY_RC_D" ]; then
    printf '#!/bin/sh\n# %s\nexit 101\n' "$POLICY_MARK" >"$POLICY_RC_D"
    chmod 0755 "$POLICY_RC_D"
  fi
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install "${missing[@]}")
  if ! "${apt[@]}" </dev/null >>"$INSTALL_LOG" 2>&1 9>&-; then
    apt_update
    "${apt[@]}" </dev/null >>"$INSTALL_LOG" 2>&1 9>&- || {
      tail -n 20 "$INSTALL_LOG" >&2
      die "apt-get install failed (see $INSTALL_LOG)"
    }
  fi
  remove_own_policy
  for p in "${INSTALL_PACKAGES[@]}"; do pkg_installed "$p" || die "package $p still not installed"; done
}

# Download once into the cache and unpack; the stamp names the exact versions unpacked.
unpack_packages() {
  local debs="$CACHE_DIR/debs" stamp="$CACHE_DIR/unpacked.list" want f
  install -d -m 0755 "$CACHE_DIR" "$debs"
  want="$(printf '%s\n' "${UNPACK_PACKAGES[@]}")"
  if [ -d "$UNPACKED" ] && [ "$(cut -d_ -f1 "$stamp" 2>/dev/null | sort)" = "$(sort <<<"$want")" ]; then
    return 0
  fi
  log "downloading ${UNPACK_PACKAGES[*]} into $debs"
  rm -f "$debs"/*.deb
  # _apt cannot write into a root-owned dir: fetch as root (apt's warning about it is harmless).
  if ! (cd "$debs" && apt-get -q download "${UNPACK_PACKAGES[@]}" </dev/null >>"$INSTALL_LOG" 2>&1 9>&-); then
    apt_update
    (cd "$debs" && apt-get -q download "${UNPACK_PACKAGES[@]}" </dev/null >>"$INSTALL_LOG" 2>&1 9>&-) ||
      die "apt-get download failed (see $INSTALL_LOG)"
  fi
  rm -rf "$UNPACKED.new"
  mkdir -p "$UNPACKED.new"
  for f in "$debs"/*.deb; do dpkg-deb -x "$f" "$UNPACKED.new"; done
  rm -rf "$UNPACKED"
  mv "$UNPACKED.new" "$UNPACKED"
  (cd "$debs" && ls ./*.deb | sed 's#^\./##') >"$stamp"
}

libs_path() { echo "$UNPACKED/usr/lib/x86_64-linux-gnu"; }
