# --- deactivate.sh: stop and remove every unit of the namespace (appended after common.sh) ---
# Works from what is installed (the links of this namespace and the installed manifest), not
# from this profile: hail runs the deactivate of whichever generation is current.

need_systemctl
if [ -r "$STATE/current/share/hail-services/manifest" ]; then
  load_manifest "$STATE/current/share/hail-services/manifest" OLD
fi
declare -A ALL=()
while IFS= read -r u; do
  if [ -n "$u" ]; then ALL[$u]=1; fi
done < <(printf '%s\n' "${OLD_UNITS[@]}"; installed_units)

STOPPED=()
stop_and_forget() {
  stop_unit "$1"
  timeout 30 systemctl reset-failed "$1" >/dev/null 2>&1 || true
  STOPPED+=("$1")
}
# Timers and sockets first, so nothing activates a service again while it is being stopped;
# then blue-green slot instances (before their template goes, systemd#4995); then services.
for u in "${!ALL[@]}"; do
  case $u in *.timer | *.socket) stop_and_forget "$u" ;; esac
done
for bg in "${OLD_BG[@]}"; do
  read -r base _ a b _ <<<"$bg"
  stop_and_forget "$base@$a.service"
  stop_and_forget "$base@$b.service"
done
for u in "${!ALL[@]}"; do
  case $u in *@.service) ;; *.service) stop_and_forget "$u" ;; esac
done

for u in "${!ALL[@]}"; do remove_links "$u"; done
rm -rf "${STATE:?}"
if [ "${#ALL[@]}" -gt 0 ]; then
  log "daemon-reload"
  run_job 120 daemon-reload || fail_unit "$NS" "$WHY"
fi
# Exit 0 only when nothing is left running.
for u in "${STOPPED[@]}"; do
  read_state "$u"
  case $ACTIVE in inactive | failed | unknown) ;; *) fail_unit "$u" "still $ACTIVE/$SUB after systemctl stop" ;; esac
done
log "removed ${#ALL[@]} units of $NS"
