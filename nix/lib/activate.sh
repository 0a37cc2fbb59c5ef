# --- activate.sh: install/switch this profile's units (appended after common.sh) ---
# The diff is always against what is installed now (the `current` link), never against
# what this profile expected: so the previous profile's activate, run after this one failed,
# restores the previous units exactly.

need_systemctl
load_manifest "$SELF/share/hail-services/manifest" NEW
if [ -r "$STATE/current/share/hail-services/manifest" ]; then
  load_manifest "$STATE/current/share/hail-services/manifest" OLD
fi

# Refuse before touching anything: a unit file that is not our link belongs to another
# namespace (same unit name) or to the host.
for u in "${NEW_UNITS[@]}"; do
  if [ -L "$UNIT_DIR/$u" ] || [ -e "$UNIT_DIR/$u" ]; then
    owner=$(readlink "$UNIT_DIR/$u" || echo "a regular file")
    if [ "$owner" != "$(link_target "$u")" ]; then
      printf 'hail-services: %s: %s already exists and is not profile %s'"'"'s (it is %s); another profile or the host owns this unit name: remove that unit or give this profile another name\n' \
        "$u" "$UNIT_DIR/$u" "$NS" "$owner" >&2
      exit 2
    fi
  fi
done

declare -A STATUS=() WAS_ACTIVE=() GONE=()
for u in "${NEW_UNITS[@]}"; do
  if [ ! -L "$UNIT_DIR/$u" ] || [ -z "${OLD_HASH[$u]:-}" ]; then
    STATUS[$u]=new
  elif [ "${OLD_HASH[$u]}" != "${NEW_HASH[$u]}" ]; then
    STATUS[$u]=changed
  else
    STATUS[$u]=same
  fi
done
# Removed = installed (by the old manifest or by a link of ours) and not in this profile.
while IFS= read -r u; do
  if [ -n "$u" ] && [ -z "${NEW_HASH[$u]:-}" ]; then GONE[$u]=1; fi
done < <(printf '%s\n' "${OLD_UNITS[@]}"; installed_units)

# --- stop phase: old definitions are still loaded, so stops run the old ExecStop ---------
# Timers and sockets first, so nothing activates a service while it is being stopped.
for pass in timer-socket service; do
  for u in "${!GONE[@]}"; do
    case "$pass:$u" in timer-socket:*.timer | timer-socket:*.socket | service:*.service) ;; *) continue ;; esac
    case $u in *@.service) continue ;; esac
    stop_unit "$u"
    timeout 30 systemctl reset-failed "$u" >/dev/null 2>&1 || true
  done
done
# A removed blue-green service: its slot instances go before their template (systemd#4995).
declare -A NEW_BG_BASE=()
for bg in "${NEW_BG[@]}"; do NEW_BG_BASE[${bg%% *}]=1; done
for bg in "${OLD_BG[@]}"; do
  read -r base _ a b _ <<<"$bg"
  if [ -z "${NEW_BG_BASE[$base]:-}" ]; then
    stop_unit "$base@$a.service"
    stop_unit "$base@$b.service"
    rm -rf "${STATE:?}/bg/$base"
    rmdir "$STATE/bg" 2>/dev/null || true
  fi
done
for u in "${NEW_UNITS[@]}"; do
  [ "${STATUS[$u]}" = changed ] || continue
  case ${NEW_METHOD[$u]} in
    stop-start)
      # Stopped before the switch, so the new definition never runs in the old one's place.
      read_state "$u"
      WAS_ACTIVE[$u]=$ACTIVE
      if [ "$ACTIVE" != inactive ]; then stop_unit "$u"; fi
      ;;
    socket)
      # A socket cannot be restarted while its service runs: stop both, start the socket.
      stop_unit "${u%.socket}.service"
      stop_unit "$u"
      ;;
  esac
done

# A service that is socket-activated from now on (a socket added to it, or a plain service
# turned blue-green, whose front proxy keeps the name): systemd refuses to start a socket
# whose service is running, and the old process may hold the port the socket listens on.
for u in "${NEW_UNITS[@]}"; do
  case $u in *.socket) ;; *) continue ;; esac
  svc=${u%.socket}.service
  if [ "${STATUS[$u]}" = new ] && [ -n "${OLD_HASH[$svc]:-}" ]; then stop_unit "$svc"; fi
done

# --- switch: one rename moves every unit file to the new set -----------------------------
mkdir -p "$STATE" "$UNIT_DIR"
if [ "$(readlink "$STATE/current" || true)" != "$SELF" ]; then
  ln -sfn "$SELF" "$STATE/.current.$$"
  mv -Tf "$STATE/.current.$$" "$STATE/current"
fi
reload=0
for u in "${!GONE[@]}"; do
  remove_links "$u"
  reload=1
done
for u in "${NEW_UNITS[@]}"; do
  [ "${STATUS[$u]}" = same ] || reload=1
  if [ ! -L "$UNIT_DIR/$u" ]; then ln -s "$(link_target "$u")" "$UNIT_DIR/$u"; fi
  # .wants links: exactly the targets this profile names.
  for w in "$UNIT_DIR"/*.wants/"$u"; do
    t=${w%/*}
    t=${t##*/}
    if [ -L "$w" ] && [[ ",${NEW_WANTS[$u]}," != *",${t%.wants},"* ]]; then unlink_wants "$w" && reload=1; fi
  done
  if [ "${NEW_WANTS[$u]}" != - ]; then
    IFS=, read -r -a targets <<<"${NEW_WANTS[$u]}"
    for t in "${targets[@]}"; do
      if [ ! -L "$UNIT_DIR/$t.wants/$u" ]; then
        mkdir -p "$UNIT_DIR/$t.wants"
        ln -s "../$u" "$UNIT_DIR/$t.wants/$u"
        reload=1
      fi
    done
  fi
done
if [ "$reload" = 1 ]; then
  log "daemon-reload"
  run_job 120 daemon-reload || fail_unit "$NS" "$WHY"
fi

# --- start phase: one unit at one time, never a target (targets revive foreign units) ----
WATCH=()
job() {
  log "$1 $2"
  run_job "${NEW_TIMEOUT[$2]}" "$1" "$2" || fail_unit "$2" "$WHY"
  WATCH+=("$2")
}
for u in "${NEW_UNITS[@]}"; do
  m=${NEW_METHOD[$u]} s=${NEW_START[$u]}
  [ "$m" != bluegreen ] || continue
  read_state "$u"
  case "${STATUS[$u]}:$m" in
    new:*) if [ "$s" = 1 ]; then job start "$u"; fi ;;
    changed:restart) if [ "$s" = 1 ] || [ "$ACTIVE" = active ]; then job restart "$u"; fi ;;
    changed:reload)
      if [ "$ACTIVE" = active ]; then job reload "$u"; elif [ "$s" = 1 ]; then job start "$u"; fi
      ;;
    changed:stop-start)
      if [ "$s" = 1 ] || [ "${WAS_ACTIVE[$u]}" != inactive ]; then job start "$u"; fi
      ;;
    changed:socket) job start "$u" ;;
    # keep-old leaves a running unit on its old code; same converges a stopped one.
    changed:keep-old | same:*) if [ "$s" = 1 ] && ! is_up; then job start "$u"; fi ;;
  esac
done
for u in "${WATCH[@]}"; do
  wait_active "$u" "${NEW_TIMEOUT[$u]}" || fail_unit "$u" "$WHY"
  RESTARTS_AT[$u]=$NRESTARTS
done
settle_units "${WATCH[@]}" || fail_unit "$FAILED_UNIT" "$WHY"
# Every unit of the set that should run must be up, not only those started now.
for u in "${NEW_UNITS[@]}"; do
  if [ "${NEW_START[$u]}" = 1 ]; then
    read_state "$u"
    is_up || fail_unit "$u" "not active ($ACTIVE/$SUB, Result=$RESULT)"
  fi
  if [ "${NEW_METHOD[$u]}" != bluegreen ]; then check_health "$u" || fail_unit "$u" "$WHY"; fi
done

# --- blue-green: each service's slots, after its proxies are up ---------------------------
for bg in "${NEW_BG[@]}"; do
  # shellcheck disable=SC2086 # the line is space-separated fields by construction
  bg_switch $bg
done
log "${#NEW_UNITS[@]} units of $NS active and healthy"
