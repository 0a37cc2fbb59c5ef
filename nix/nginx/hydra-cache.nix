# NixOS: nginx as a caching reverse proxy in front of Hydra for a big fleet of hail agents
# (README, "Fleet operations"). Import it in the configuration of the machine that serves
# hail's --gate-job URLs, with your Hydra's address and the name the hosts use.
{ hydraAddress ? "hydra.internal:3000", serverName ? "hydra-cache.example.org", ... }:
{
  services.nginx = {
    enable = true;
    # NixOS gives nginx /var/cache/nginx (systemd CacheDirectory).
    appendHttpConfig = ''
      proxy_cache_path /var/cache/nginx/hydra keys_zone=hydra_latest:1m max_size=16m inactive=1m;
    '';
    upstreams.hydra.servers.${hydraAddress} = { };
    virtualHosts.${serverName}.extraConfig = builtins.readFile ./hydra-cache.conf;
  };
}
