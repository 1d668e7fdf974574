# Sourced by scripts/demo-mailhost.sh: the small daemons beside Postfix and Dovecot (NSD,
# OpenDKIM, the OAuth server) are each known by a pid file and a state file
# "$DEMO_DIR/<name>.state" holding "pid config-hash", as Postfix and Dovecot are.

# pid_from_file FILE: the pid in FILE if that process is alive
pid_from_file() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(tr -dc '0-9' <"$1")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# PORT below is a TCP port, or the path of a unix socket (the milters').

# daemon_current NAME PIDFILE HASH PORT: true when the daemon runs with the config of HASH
daemon_current() {
  local name="$1" pidfile="$2" want="$3" port="$4" pid have=""
  pid="$(pid_from_file "$pidfile")" || return 1
  [ -f "$DEMO_DIR/$name.state" ] && have="$(cat "$DEMO_DIR/$name.state")"
  [ "$have" = "$pid $want" ] && port_listening "$port"
}

# daemon_started NAME PIDFILE HASH PORT LOG: waits (bounded) for the pid file and the port,
# then records the state
daemon_started() {
  local name="$1" pidfile="$2" want="$3" port="$4" logfile="$5" pid deadline=$((SECONDS + WAIT_SECONDS))
  until pid="$(pid_from_file "$pidfile")" && port_listening "$port"; do
    [ "$SECONDS" -lt "$deadline" ] || {
      tail -n 20 "$logfile" >&2 2>/dev/null || true
      die "$name did not start listening on port $port within ${WAIT_SECONDS}s (see $logfile)"
    }
    sleep 0.1
  done
  echo "$pid $want" >"$DEMO_DIR/$name.state"
}

# daemon_stop NAME PIDFILE PORT: SIGTERM, then wait (bounded) for the process and the port
daemon_stop() {
  local name="$1" pidfile="$2" port="$3" pid deadline
  if pid="$(pid_from_file "$pidfile")"; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + WAIT_SECONDS))
    while kill -0 "$pid" 2>/dev/null; do
      [ "$SECONDS" -lt "$deadline" ] || die "$name (pid $pid) still running after ${WAIT_SECONDS}s"
      sleep 0.1
    done
  fi
  rm -f "$pidfile" "$DEMO_DIR/$name.state"
  # A unix socket outlives a daemon that does not unlink it on exit (rspamd): the process is
  # gone, so the file is stale.
  if [ "${port#/}" != "$port" ] && ! pid_from_file "$pidfile" >/dev/null; then rm -f "$port"; fi
  wait_ports_closed "$name" "$port"
}

# daemon_status NAME PIDFILE PORT: one line for `status`; false when it is not running
daemon_status() {
  local name="$1" pidfile="$2" port="$3" pid
  if pid="$(pid_from_file "$pidfile")" && port_listening "$port"; then
    echo "$name: running (pid $pid, port $port)"
  else
    echo "$name: not running"
    return 1
  fi
}
