#!/bin/bash
# Fake systemctl for the hail-services tests (see fake-host.ts). It records calls in
# $FAKE_SYSTEMD/calls and keeps one state file per unit in $FAKE_SYSTEMD/units.
# start/restart: the unit becomes active with a new MainPID, unless on-start/<unit> holds the
# state it should take instead (a line FAIL=<text> makes the call itself fail). A unit whose
# state has CrashLoop=1 counts one more NRestarts on every show.
set -euo pipefail
d=$FAKE_SYSTEMD
verb=$1
unit=${!#}
state() {
  local pid=0
  if [ "$1" = active ]; then pid=$(($(cat "$d/pid" 2>/dev/null || echo 100) + 1)); echo "$pid" >"$d/pid"; fi
  printf 'ActiveState=%s\nSubState=%s\nNRestarts=0\nResult=success\nType=simple\nMainPID=%s\n' "$1" "$2" "$pid" >"$d/units/$unit"
}
case $verb in
  show)
    if [ ! -f "$d/units/$unit" ]; then state inactive dead; fi
    if grep -q '^CrashLoop=1' "$d/units/$unit"; then
      n=$(sed -n 's/^NRestarts=//p' "$d/units/$unit")
      sed -i "s/^NRestarts=.*/NRestarts=$((n + 1))/" "$d/units/$unit"
    fi
    cat "$d/units/$unit"
    ;;
  start | restart)
    echo "$verb $unit" >>"$d/calls"
    if [ "$verb" = start ] && grep -qs '^ActiveState=active' "$d/units/$unit"; then exit 0; fi
    if [ -f "$d/on-start/$unit" ]; then
      if grep -q '^FAIL=' "$d/on-start/$unit"; then sed -n 's/^FAIL=//p' "$d/on-start/$unit" >&2; exit 1; fi
      cp "$d/on-start/$unit" "$d/units/$unit"
    else
      state active running
    fi
    ;;
  stop)
    echo "stop $unit" >>"$d/calls"
    state inactive dead
    ;;
  daemon-reload) echo "daemon-reload" >>"$d/calls" ;;
  *) echo "$*" >>"$d/calls" ;;
esac
