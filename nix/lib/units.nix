# Rendering of systemd unit files with systemd's own quoting rules (systemd.syntax(7),
# systemd.service(5) "Command lines", systemd.exec(5) "Environment="). Builtins only, so the
# library needs nothing from nixpkgs' lib.
let
  inherit (builtins)
    attrNames
    concatMap
    concatStringsSep
    filter
    isBool
    isList
    isString
    match
    replaceStrings
    toString
    ;

  # Inside a double-quoted word systemd undoes C escapes, so a backslash and a double quote
  # are escaped; `%` starts a specifier everywhere (literal = `%%`). On command lines `$`
  # starts a variable (literal = `$$`); in Environment= it does not, so it is left alone
  # there (doubling it would put `$$` into the service's environment).
  escapeCommon = s: replaceStrings [ "\\" "\"" "%" "\t" ] [ "\\\\" "\\\"" "%%" "\\t" ] s;

  # One exec argument as one word, whatever it contains (newline becomes the `\n` escape).
  quoteExecArg = s: "\"" + replaceStrings [ "$" "\n" ] [ "$$" "\\n" ] (escapeCommon s) + "\"";

  # A list of strings is an argument vector; a string is a command line written as is (the
  # user's own systemd syntax, e.g. with a `-` prefix).
  renderExec = exec: if isList exec then concatStringsSep " " (map quoteExecArg exec) else exec;

  # `Environment="K=V"`: systemd rejects control characters there, so a newline is an
  # evaluation error rather than a unit that silently loses the variable.
  renderEnvironment =
    where: env:
    map (
      k:
      let
        v = toString env.${k};
      in
      if match "[A-Za-z_][A-Za-z0-9_]*" k == null then
        throw "mkServiceProfile: ${where}: environment variable name '${k}' is not a valid name ([A-Za-z_][A-Za-z0-9_]*)"
      else if match ".*[\n\r].*" v != null then
        throw "mkServiceProfile: ${where}: environment variable ${k} contains a newline, which systemd's Environment= cannot hold; pass it in a file (EnvironmentFile=) instead"
      else
        "Environment=\"${escapeCommon "${k}=${v}"}\""
    ) (attrNames env);

  renderValue = v: if isBool v then (if v then "true" else "false") else toString v;

  # Raw `Key=value` lines, as NixOS writes serviceConfig: a list repeats the key, null is left
  # out, so a user can unset a default by passing null.
  renderSettings =
    attrs:
    concatMap (
      k:
      let
        v = attrs.${k};
      in
      if v == null then
        [ ]
      else if isList v then
        map (x: "${k}=${renderValue x}") v
      else
        [ "${k}=${renderValue v}" ]
    ) (attrNames attrs);

  section = title: lines: if lines == [ ] then "" else "[${title}]\n" + concatStringsSep "\n" lines + "\n";

  # A unit file from its sections, in systemd's usual order; empty sections are left out.
  renderUnit =
    sections:
    concatStringsSep "\n" (
      filter (s: s != "") (
        map (title: if sections ? ${title} then section title sections.${title} else "") [
          "Unit"
          "Service"
          "Socket"
          "Timer"
          "Install"
        ]
      )
    );

  # Single quotes for /bin/sh: the only character to escape inside is the quote itself.
  shellQuote = s: "'" + replaceStrings [ "'" ] [ "'\\''" ] s + "'";
  shellCommand = cmd: if isString cmd then cmd else "exec " + concatStringsSep " " (map shellQuote cmd);
in
{
  inherit
    quoteExecArg
    renderExec
    renderEnvironment
    renderSettings
    renderUnit
    shellQuote
    shellCommand
    ;
}
