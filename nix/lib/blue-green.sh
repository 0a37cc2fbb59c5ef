# --- blue-green.sh: the slot switch of a blue-green service (appended before activate.sh) ---
# Why systemd-socket-proxyd and not nginx: systemd itself owns the listening socket on
# `listen` (the front .socket), so it never closes across switches or proxy restarts; the
# front proxy opens a new connection to `live.sock` for each client, and `live.sock` is a
# symlink to one slot's adapter socket, so one atomic rename moves new connections while
# open ones stay where they are. It needs nothing but systemd, which the profile needs
# anyway, and no proxy configuration shared with the host (an nginx would be the host's, or a
# second one per profile with its own config, reload and failure modes).
#
# State per service, in $STATE/bg/<base>/: live.sock -> slot-<port>.sock (the live slot),
# slot-<port>.hash = the hash of the template unit file that slot was started from.

# Starts a slot instance and watches it through the settle time; WHY on failure.
start_slot() {
  local inst=$1 secs=$2
  log "start $inst"
  run_job "$secs" start "$inst" || return 1
  wait_active "$inst" "$secs" || return 1
  RESTARTS_AT[$inst]=$NRESTARTS
  settle_units "$inst"
}

# The slot accepts TCP connections on its port, then passes its health check.
slot_ready() {
  local inst=$1 port=$2 secs=$3 deadline
  deadline=$(($(date +%s) + secs))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      WHY="nothing accepts connections on 127.0.0.1:$port (its PORT) within $secs s"
      return 1
    fi
    sleep 0.2
  done
  check_health "${inst%@*}@.service" "$port"
}

# bg_switch BASE LISTEN SLOT_A SLOT_B DRAIN TEMPLATE_HASH TIMEOUT
bg_switch() {
  local base=$1 a=$3 b=$4 drain=$5 hash=$6 secs=$7
  local dir=$STATE/bg/$1 live idle inst why
  mkdir -p "$dir"
  live=$(readlink "$dir/live.sock" || true)
  live=${live#slot-}
  live=${live%.sock}
  if [ -n "$live" ] && [ "$(cat "$dir/slot-$live.hash" 2>/dev/null || true)" = "$hash" ]; then
    # Unchanged: the live slot already runs this template. After a reboot (units in /etc)
    # it may be stopped: start it in place, the front already points at it.
    inst=$base@$live.service
    read_state "$inst"
    if ! is_up; then start_slot "$inst" "$secs" || fail_unit "$inst" "$WHY"; fi
    slot_ready "$inst" "$live" "$secs" || fail_unit "$inst" "$WHY"
    return 0
  fi
  idle=$a
  if [ "$live" = "$a" ]; then idle=$b; fi
  inst=$base@$idle.service
  read_state "$inst"
  # A leftover from an interrupted switch runs who knows what: start the idle slot afresh.
  if [ "$ACTIVE" != inactive ]; then stop_unit "$inst"; fi
  if ! start_slot "$inst" "$secs" || ! slot_ready "$inst" "$idle" "$secs"; then
    why=$WHY
    run_job 120 stop "$inst" >/dev/null || true
    rm -f "$dir/slot-$idle.hash"
    fail_unit "$inst" "$why${live:+ (stopped it; slot $live keeps serving)}"
  fi
  printf '%s\n' "$hash" >"$dir/slot-$idle.hash"
  ln -sfn "slot-$idle.sock" "$dir/.live.$$"
  mv -Tf "$dir/.live.$$" "$dir/live.sock"
  log "$base: traffic moved to slot $idle"
  if [ -n "$live" ]; then
    # Connections already on the old slot finish during the drain.
    sleep "$drain"
    stop_unit "$base@$live.service"
    rm -f "$dir/slot-$live.hash"
  fi
}
