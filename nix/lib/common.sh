# --- common.sh: shared by bin/activate and bin/deactivate (appended after header.sh) ---

# Progress goes to stdout, so that the first stderr line of a failure is the failure itself.
log() { printf '%s: %s\n' "$NS" "$*"; }

# The one failure line an operator reads first, then the unit's own words from its journal.
fail_unit() {
  printf 'hail-services: %s: %s\n' "$1" "$2" >&2
  journalctl -u "$1" -n 20 --no-pager >&2 2>&1 || true
  exit "${3:-1}"
}

need_systemctl() {
  if ! command -v systemctl >/dev/null; then
    printf 'hail-services: %s: no systemctl on PATH, /run/current-system/sw/bin, /usr/bin or /bin; this profile needs the host'"'"'s systemd\n' "$NS" >&2
    exit 2
  fi
}

oneline() { printf '%s' "$1" | tr '\n' ' ' | cut -c1-400; }

# systemctl VERB [UNIT] with a bound, so a job that never ends cannot hang the deployment.
# Its stderr goes into the reason (WHY) instead of ahead of our failure line.
run_job() {
  local secs=$1 verb=$2 unit=${3:-} out rc=0
  out=$(timeout "$secs" systemctl "$verb" ${unit:+"$unit"} 2>&1) || rc=$?
  if [ "$rc" -eq 124 ]; then
    WHY="systemctl $verb did not finish within $secs s"
  elif [ "$rc" -ne 0 ]; then
    WHY="systemctl $verb failed: $(oneline "$out")"
  fi
  return "$rc"
}

# Stops a unit; a unit that is not loaded (already gone) counts as stopped.
stop_unit() {
  log "stopping $1"
  if ! run_job 120 stop "$1"; then
    read_state "$1"
    case $ACTIVE in inactive | failed) ;; *) fail_unit "$1" "$WHY" ;; esac
  fi
}

# The unit's state in ACTIVE, SUB, NRESTARTS, RESULT, TYPE (read as Key=Value lines: `show
# --value` prints in systemd's property order, not ours).
read_state() {
  ACTIVE=unknown SUB='' NRESTARTS=0 RESULT='' TYPE=''
  local line
  while IFS= read -r line; do
    case $line in
      ActiveState=*) ACTIVE=${line#*=} ;;
      SubState=*) SUB=${line#*=} ;;
      NRestarts=*) NRESTARTS=${line#*=} ;;
      Result=*) RESULT=${line#*=} ;;
      Type=*) TYPE=${line#*=} ;;
    esac
  done < <(timeout 30 systemctl show -p ActiveState -p SubState -p NRestarts -p Result -p Type "$1" 2>/dev/null || true)
}

# A oneshot without RemainAfterExit is done when it is inactive with success.
is_up() { [ "$ACTIVE" = active ] || { [ "$TYPE" = oneshot ] && [ "$ACTIVE" = inactive ] && [ "$RESULT" = success ]; }; }

# Waits until UNIT is active, at most SECS; on failure WHY says why and it returns 1.
wait_active() {
  local unit=$1 secs=$2 deadline
  deadline=$(($(date +%s) + secs))
  while :; do
    read_state "$unit"
    if is_up; then return 0; fi
    case $ACTIVE in
      failed)
        WHY="failed to start (Result=$RESULT)"
        return 1
        ;;
      inactive)
        WHY="stopped right after starting (inactive, Result=$RESULT): its main process exited"
        return 1
        ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      WHY="not active within $secs s (still $ACTIVE/$SUB); raise startTimeoutSec if it is only slow"
      return 1
    fi
    sleep 0.2
  done
}

# A crash-looping Type=simple service looks active between two crashes: look again after the
# settle time and compare NRestarts with what RESTARTS_AT recorded when it first came up.
settle_units() {
  local u
  [ "$#" -gt 0 ] || return 0
  sleep "$SETTLE"
  for u in "$@"; do
    read_state "$u"
    if ! is_up; then
      FAILED_UNIT=$u WHY="did not stay up: $ACTIVE/$SUB ${SETTLE} s after starting (Result=$RESULT, NRestarts=$NRESTARTS)"
      return 1
    fi
    if [ "$NRESTARTS" != "${RESTARTS_AT[$u]:-0}" ]; then
      FAILED_UNIT=$u WHY="crash-looping: systemd restarted it $((NRESTARTS - ${RESTARTS_AT[$u]:-0})) times within ${SETTLE} s of starting"
      return 1
    fi
  done
}

# Runs UNIT's health check (from the manifest) until it passes or its timeout ends. PORT is
# the blue-green slot: it replaces `{port}` in the URL and is in the command's environment.
check_health() {
  local unit=$1 port=${2:-} kind=${HEALTH_KIND[$1]:-} secs=${HEALTH_TIMEOUT[$1]:-30} arg=${HEALTH_ARG[$1]:-}
  local deadline out rc what
  [ -n "$kind" ] || return 0
  arg=${arg//\{port\}/$port}
  if [ "$kind" = http ]; then what="health check GET $arg"; else what="health check $SELF/$arg"; fi
  deadline=$(($(date +%s) + secs))
  while :; do
    rc=0
    if [ "$kind" = http ]; then
      out=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$arg" 2>&1) || rc=$?
      case "$rc:$out" in
        0:2??) return 0 ;;
        0:*) WHY="$what answered HTTP $out" ;;
        *) WHY="$what failed: $(oneline "${out#000}")" ;;
      esac
    else
      out=$(cd / && PORT=$port timeout "$secs" "$SELF/$arg" 2>&1) || rc=$?
      if [ "$rc" -eq 0 ]; then return 0; fi
      WHY="$what exited $rc: $(oneline "$(printf '%s' "$out" | tail -n 3)")"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      WHY="not healthy within $secs s: $WHY"
      return 1
    fi
    sleep 0.5
  done
}

# Manifest lines (written by mkServiceProfile):
#   unit FILE HASH METHOD START WANTS TIMEOUT | health UNIT KIND TIMEOUT ARG
#   bluegreen BASE LISTEN SLOT_A SLOT_B DRAIN TEMPLATE_HASH TIMEOUT
# PREFIX is NEW (this profile) or OLD (the installed one); health is only kept for NEW.
load_manifest() {
  local -n units=${2}_UNITS hash=${2}_HASH method=${2}_METHOD start=${2}_START wants=${2}_WANTS tmo=${2}_TIMEOUT bgs=${2}_BG
  local kind rest f h m s w t
  while read -r kind rest; do
    case $kind in
      unit)
        read -r f h m s w t <<<"$rest"
        units+=("$f") hash[$f]=$h method[$f]=$m start[$f]=$s wants[$f]=$w tmo[$f]=$t
        ;;
      health)
        if [ "$2" = NEW ]; then
          read -r f m t h <<<"$rest"
          HEALTH_KIND[$f]=$m HEALTH_TIMEOUT[$f]=$t HEALTH_ARG[$f]=$h
        fi
        ;;
      bluegreen) bgs+=("$rest") ;;
    esac
  done <"$1"
}
declare -A NEW_HASH=() NEW_METHOD=() NEW_START=() NEW_WANTS=() NEW_TIMEOUT=()
declare -A OLD_HASH=() OLD_METHOD=() OLD_START=() OLD_WANTS=() OLD_TIMEOUT=()
declare -A HEALTH_KIND=() HEALTH_TIMEOUT=() HEALTH_ARG=() RESTARTS_AT=()
NEW_UNITS=() OLD_UNITS=() NEW_BG=() OLD_BG=()
WHY='' FAILED_UNIT=''

# A unit file link of this namespace points through the state dir's `current` link, so
# swapping `current` switches every unit file at once, and the link's target tells whose
# unit a file is.
link_target() { printf '%s' "$STATE/current/units/$1"; }

# The units whose link in the unit dir is this namespace's (what is installed now).
installed_units() {
  local l
  for l in "$UNIT_DIR"/*; do
    if [ -L "$l" ] && [ "$(readlink "$l")" = "$(link_target "${l##*/}")" ]; then printf '%s\n' "${l##*/}"; fi
  done
}

# Removes a unit's link and every .wants/.requires link to it.
remove_links() {
  local w
  rm -f "$UNIT_DIR/$1"
  for w in "$UNIT_DIR"/*.wants/"$1" "$UNIT_DIR"/*.requires/"$1"; do
    if [ -L "$w" ]; then unlink_wants "$w"; fi
  done
}

# Removes one .wants link, and its directory once empty (no litter in the unit dir).
unlink_wants() {
  rm -f "$1"
  rmdir "${1%/*}" 2>/dev/null || true
}
