# One service (`services.<svc>` of mkServiceProfile) → the unit files it needs and the lines
# activate reads about them. Plain services give `<ns>-<svc>.service` (+ `.socket`/`.timer`);
# a blue-green service gives the template `<ns>-<svc>@.service` (instance = slot port), a
# front `<ns>-<svc>.socket` + `.service` (systemd-socket-proxyd to the live slot's UNIX
# socket) and, per slot, an adapter `<ns>-<svc>-slot-<port>.socket` + `.service`
# (systemd-socket-proxyd from that UNIX socket to 127.0.0.1:<port>).
{
  pkgs,
  ns,
  stateDir,
}:
let
  inherit (builtins)
    attrNames
    concatStringsSep
    elem
    filter
    hashString
    isInt
    isList
    isString
    length
    match
    removeAttrs
    toString
    ;
  u = import ./units.nix;
  methods = [
    "restart"
    "reload"
    "stop-start"
    "keep-old"
  ];
  proxyd = "${pkgs.systemd}/lib/systemd/systemd-socket-proxyd";
  asList = v: if isList v then v else [ v ];
in
svc: s:
let
  where = "service ${svc} of ${ns}";
  base = "${ns}-${svc}";
  fail = msg: throw "mkServiceProfile: ${where}: ${msg}";
  sc = s.serviceConfig or { };
  exec =
    if s ? exec then
      u.renderExec s.exec
    else if sc ? ExecStart then
      toString sc.ExecStart
    else
      fail "no command: set `exec = [ \"/nix/store/…/bin/app\" \"--flag\" ];` (or serviceConfig.ExecStart)";
  method = s.switchMethod or "restart";
  health = s.health or null;
  bg = s.blueGreen or null;
  startTimeout = toString (s.startTimeoutSec or 30);
  defaultWantedBy = if s ? socket || s ? timer then [ ] else [ "multi-user.target" ];
  wantedBy = s.wantedBy or defaultWantedBy;

  healthLine =
    unit:
    if health == null then
      [ ]
    else if health ? http then
      [ "health ${unit} http ${toString (health.timeoutSec or 30)} ${health.http}" ]
    else if health ? command then
      [ "health ${unit} command ${toString (health.timeoutSec or 30)} health/${unit}" ]
    else
      fail "health needs `http = \"http://127.0.0.1:PORT/PATH\";` or `command = [ … ];`";
  healthScripts =
    unit:
    if health != null && health ? command then
      [
        {
          name = unit;
          text = "#!${pkgs.runtimeShell}\n" + u.shellCommand health.command + "\n";
        }
      ]
    else
      [ ];

  # A unit plus its manifest line: `unit FILE HASH METHOD START WANTS TIMEOUT`. START=1 means
  # activate starts it (something wants it); the hash is how activate tells changed from
  # unchanged without reading old files.
  mkUnit =
    file: method: wants: text:
    {
      inherit file text;
      line = concatStringsSep " " [
        "unit"
        file
        (hashString "sha256" text)
        method
        (if wants == [ ] then "0" else "1")
        (if wants == [ ] then "-" else concatStringsSep "," wants)
        startTimeout
      ];
    };

  install = wants: if wants == [ ] then [ ] else map (t: "WantedBy=${t}") wants;
  unitSection =
    description: extra:
    [ "Description=${description}" ] ++ extra ++ u.renderSettings (s.unitConfig or { });
  serviceSection =
    env:
    u.renderEnvironment where env
    ++ [ "ExecStart=${exec}" ]
    ++ u.renderSettings (removeAttrs sc [ "ExecStart" ]);
  # Description= expands specifiers too; a user's `%` stays literal.
  description = builtins.replaceStrings [ "%" "\n" ] [ "%%" " " ] (s.description or base);

  plain = [
    (mkUnit "${base}.service" method wantedBy (u.renderUnit {
      Unit = unitSection description [ ];
      Service = serviceSection (s.environment or { });
      Install = install wantedBy;
    }))
  ]
  ++ (
    if s ? socket then
      [
        (mkUnit "${base}.socket" "socket" [ "sockets.target" ] (u.renderUnit {
          Unit = [ "Description=${description} (socket)" ];
          Socket =
            map (l: "ListenStream=${toString l}") (asList (s.socket.listenStream or (fail "socket needs listenStream")))
            ++ u.renderSettings (s.socket.socketConfig or { });
          Install = install [ "sockets.target" ];
        }))
      ]
    else
      [ ]
  )
  ++ (
    if s ? timer then
      [
        (mkUnit "${base}.timer" "restart" [ "timers.target" ] (u.renderUnit {
          Unit = [ "Description=${description} (timer)" ];
          Timer =
            (if s.timer ? onCalendar then map (c: "OnCalendar=${c}") (asList s.timer.onCalendar) else [ ])
            ++ u.renderSettings (s.timer.timerConfig or { });
          Install = install [ "timers.target" ];
        }))
      ]
    else
      [ ]
  );

  # Blue-green: every path below is fixed at build time; activate moves traffic by swapping
  # the `live.sock` symlink, which systemd-socket-proxyd resolves on each new connection.
  bgDir = "${stateDir}/${ns}/bg/${base}";
  slots = bg.slots or [ ];
  proxyUnits =
    name: listen: target: what:
    [
      (mkUnit "${name}.socket" "socket" [ "sockets.target" ] (u.renderUnit {
        Unit = [ "Description=${description} (${what} socket)" ];
        Socket = [ "ListenStream=${listen}" ];
        Install = install [ "sockets.target" ];
      }))
      (mkUnit "${name}.service" "restart" [ ] (u.renderUnit {
        Unit = [
          "Description=${description} (${what} proxy)"
          "Requires=${name}.socket"
          "After=${name}.socket"
        ];
        Service = [ "ExecStart=${u.quoteExecArg proxyd} ${u.quoteExecArg target}" ];
      }))
    ];
  blueGreen =
    [
      (mkUnit "${base}@.service" "bluegreen" [ ] (u.renderUnit {
        Unit = unitSection "${description} (slot %i)" [ ];
        Service = [ "Environment=\"PORT=%i\"" ] ++ serviceSection (removeAttrs (s.environment or { }) [ "PORT" ]);
      }))
    ]
    ++ proxyUnits base (toString bg.listen) "${bgDir}/live.sock" "blue-green front"
    ++ builtins.concatMap (
      p: proxyUnits "${base}-slot-${toString p}" "${bgDir}/slot-${toString p}.sock" "127.0.0.1:${toString p}" "slot ${toString p}"
    ) slots;
  template = builtins.head blueGreen;
  bgLine = concatStringsSep " " (
    [
      "bluegreen"
      base
      (toString bg.listen)
    ]
    ++ map toString slots
    ++ [
      (toString (bg.drainSec or 2))
      (hashString "sha256" template.text)
      startTimeout
    ]
  );
  checks =
    if match "[A-Za-z0-9][A-Za-z0-9_-]*" svc == null then
      fail "the service name must match [A-Za-z0-9][A-Za-z0-9_-]* (it becomes part of a unit name)"
    else if !(elem method methods) then
      fail "switchMethod is \"${toString method}\"; use one of ${concatStringsSep ", " methods}"
    else if method == "reload" && !(sc ? ExecReload) then
      fail "switchMethod = \"reload\" needs serviceConfig.ExecReload (systemctl reload would fail)"
    else if bg != null && (s ? socket || s ? timer) then
      fail "blueGreen cannot be combined with socket or timer"
    else if bg != null && !(isInt (bg.listen or null) && length slots == 2 && builtins.all isInt slots && builtins.head slots != builtins.elemAt slots 1) then
      fail "blueGreen needs `listen = PORT; slots = [ PORT_A PORT_B ];` (two different ports)"
    else
      true;
in
assert checks;
if bg == null then
  {
    units = plain;
    lines = map (x: x.line) plain ++ healthLine "${base}.service";
    healthScripts = healthScripts "${base}.service";
  }
else
  {
    units = blueGreen;
    # The generic part of activate handles the proxies; the `bluegreen` line (and the health
    # line of the template) drive the slot switch.
    lines = map (x: x.line) blueGreen ++ [ bgLine ] ++ healthLine "${base}@.service";
    healthScripts = healthScripts "${base}@.service";
  }
