#!/bin/sh
# Installs nginx and Apache httpd (with its prefork, worker and event MPMs)
# as reference servers for `c10k bench`. Debian/Ubuntu, as root. nginx gets
# ngx_http_echo (libnginx-mod-http-echo): its parallel subrequests are how
# nginx takes part in the gather scenario; Apache proxies with mod_proxy_http,
# which Debian's apache2 ships.
#
# It also installs what the multi-host tests use (issue 14): iproute2 for
# `ip netns` and OpenSSH's client and server, whose sshd the tests start
# themselves inside a namespace (scripts/netns-hosts.sh), never as the
# system's service.
#
# The harness starts each peer itself, from scripts/nginx.conf.tmpl and
# scripts/apache.conf.tmpl, on a loopback port it picks, so the system
# services are not needed: they are kept from starting (policy-rc.d during
# the install), then stopped and disabled if they run anyway. Leaving them
# running would be harmless for the benchmark, but they would hold port 80
# and some memory on the box being measured.
set -eu

if [ "$(id -u)" -ne 0 ]; then
	echo "install-peers.sh: run as root (apt-get install)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update -qq
apt-get install -y -qq nginx libnginx-mod-http-echo apache2 iproute2 openssh-client openssh-server >/dev/null

for svc in nginx apache2 ssh; do
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	elif command -v service >/dev/null 2>&1; then
		service "$svc" stop >/dev/null 2>&1 || true
	fi
done

echo "installed:"
/usr/sbin/nginx -v 2>&1
f=/usr/lib/nginx/modules/ngx_http_echo_module.so
if [ -f "$f" ]; then echo "nginx echo module: $f"; else echo "nginx echo module: missing (nginx sits out gather)" >&2; fi
/usr/sbin/apache2 -v | head -1
for mpm in prefork worker event; do
	f=/usr/lib/apache2/modules/mod_mpm_$mpm.so
	if [ -f "$f" ]; then echo "apache MPM $mpm: $f"; else echo "apache MPM $mpm: missing" >&2; fi
done
for mod in proxy proxy_http; do
	f=/usr/lib/apache2/modules/mod_$mod.so
	if [ -f "$f" ]; then echo "apache mod_$mod: $f"; else echo "apache mod_$mod: missing (apache sits out proxy)" >&2; fi
done
