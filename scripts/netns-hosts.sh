#!/usr/bin/env bash
# Test hosts for `c10k bench -server-host/-load-hosts` (issue 14): three
# network namespaces standing in for three machines, so the harness's
# "server on one host, load on others" path runs for real on one box.
#
#   netns-hosts.sh up PREFIX [N]     build the topology below
#   netns-hosts.sh sshd PREFIX NS    start sshd in NS (for ssh:// host specs)
#   netns-hosts.sh down PREFIX       remove everything up and sshd made
#
# What `up` builds, subnet 198.18.N.0/24 (RFC 2544's benchmark-testing
# range, so it cannot collide with a real network):
#
#   root namespace:  bridge PREFIX-br 198.18.N.1 (the harness reaches every
#                    host from here)
#   PREFIX-srv       eth0 198.18.N.10, veth peer PREFIX-vs on the bridge
#   PREFIX-l1        eth0 198.18.N.11, veth peer PREFIX-v1 on the bridge
#   PREFIX-l2        eth0 198.18.N.12, veth peer PREFIX-v2 on the bridge
#
# lo is up everywhere: a proxy under test reaches its backend on 127.0.0.1.
# The bridge only switches frames, so nothing else on the machine changes:
# no sysctl, no route beyond the connected ones, no NAT. One caveat: where
# br_netfilter hands bridged frames to an iptables FORWARD chain that drops
# them (Docker sets that policy), host-to-host traffic needs an ACCEPT rule
# for PREFIX-br; this script adds none. The root namespace reaches every
# host either way.
#
# Output is shell-style KEY=VALUE, one per line, for callers to parse
# (hosts/netnstest does). Exit status: 0 done, 1 refused or failed (what was
# half built is removed), 2 usage, 3 not possible here (no permission for
# network namespaces, sshd or ssh missing): callers skip their test on 3.
# Run as root.
set -euo pipefail

STATE_ROOT=${C10K_NETNS_STATE:-/run/c10k-netns}
SSHD=/usr/sbin/sshd
ROLES=(srv l1 l2)

usage() {
	cat >&2 <<'EOF'
usage: netns-hosts.sh up PREFIX [N]     namespaces PREFIX-srv, PREFIX-l1, PREFIX-l2 on
                                        bridge PREFIX-br, subnet 198.18.N.0/24 (N: 0..255, default 0)
       netns-hosts.sh sshd PREFIX NS    sshd in namespace NS (PREFIX-srv or srv, ...) on port 22
       netns-hosts.sh down PREFIX       stop that sshd, delete namespaces, bridge and state
PREFIX: 1 to 8 characters from [A-Za-z0-9_-], starting with a letter or digit.
example: netns-hosts.sh up c10kt 7 && netns-hosts.sh sshd c10kt l2 && netns-hosts.sh down c10kt
EOF
	exit 2
}

die() {
	echo "netns-hosts.sh: $*" >&2
	exit 1
}

# skip REASON: this machine cannot do it; callers treat status 3 as a skip.
skip() {
	echo "$*" >&2
	exit 3
}

check_prefix() {
	# The longest interface name built from it, PREFIX-br, must fit IFNAMSIZ-1 (15).
	if [ "${#1}" -gt 8 ]; then
		die "prefix '$1' is longer than 8 characters"
	fi
	if ! [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]]; then
		die "prefix '$1' must be 1 to 8 characters from [A-Za-z0-9_-], starting with a letter or digit"
	fi
}

# host_suffix ROLE: last octet of that role's address.
host_suffix() {
	case $1 in
	srv) echo 10 ;;
	l1) echo 11 ;;
	l2) echo 12 ;;
	esac
}

# veth_name PREFIX ROLE: the root-namespace end of ROLE's veth pair.
veth_name() {
	case $2 in
	srv) echo "$1-vs" ;;
	l1) echo "$1-v1" ;;
	l2) echo "$1-v2" ;;
	esac
}

# ns_exists NAME: `ip netns` keeps a namespace's name as a file there.
ns_exists() { [ -e "/var/run/netns/$1" ]; }
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }

ip_to_int() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# subnet_user NET_INT PLEN: the interface holding an IPv4 address whose
# network overlaps NET_INT/PLEN, if any.
subnet_user() {
	local net=$1 plen=$2 dev cidr addr len shorter mask
	while read -r _ dev _ cidr _; do
		addr=$(ip_to_int "${cidr%/*}")
		len=${cidr#*/}
		shorter=$((len < plen ? len : plen))
		mask=$(((0xffffffff << (32 - shorter)) & 0xffffffff))
		if [ $((addr & mask)) -eq $((net & mask)) ]; then
			echo "$dev"
			return
		fi
	done < <(ip -o -4 addr show)
}

need_ip() {
	command -v ip >/dev/null 2>&1 || skip "netns not permitted: ip (iproute2) not found"
}

# teardown PREFIX: delete every namespace and link named after PREFIX, if
# present. Deleting the host end of a veth deletes the pair, even when a
# process still holds the namespace of the other end.
teardown() {
	local prefix=$1 role ns link failed=0
	for role in "${ROLES[@]}"; do
		ns=$prefix-$role
		if ns_exists "$ns" && ! ip netns del "$ns"; then failed=1; fi
	done
	# Deleting a namespace deletes its veth pair, asynchronously: a link
	# may vanish between the check and the delete, which is not a failure.
	for role in "${ROLES[@]}"; do
		link=$(veth_name "$prefix" "$role")
		if link_exists "$link" && ! ip link del "$link" 2>/dev/null && link_exists "$link"; then failed=1; fi
	done
	if link_exists "$prefix-br" && ! ip link del "$prefix-br"; then failed=1; fi
	return "$failed"
}

# undo_up: the EXIT trap of a failed `up` (set -e or die), removing what it built.
undo_up() {
	local status=$?
	[ "$status" -ne 0 ] || return 0
	teardown "$UP_PREFIX" || true
	echo "netns-hosts.sh: up $UP_PREFIX failed; removed what it had built" >&2
	# A failed command's own status could read as usage (2) or skip (3).
	exit 1
}

cmd_up() {
	if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
	local prefix=$1 n=${2:-0} role ns link addr dev err
	check_prefix "$prefix"
	if ! [[ $n =~ ^(0|[1-9][0-9]{0,2})$ ]] || [ "$n" -gt 255 ]; then
		die "N '$n' must be an integer 0..255"
	fi
	need_ip
	[ "$(id -u)" -eq 0 ] || skip "netns not permitted: not root (uid $(id -u))"

	# Two `up`s at once must not both find a subnet free and both take it:
	# hold a lock on this script file from the checks to the last address.
	if command -v flock >/dev/null 2>&1; then
		exec 9<"${BASH_SOURCE[0]}"
		flock -w 30 9 || die "could not lock ${BASH_SOURCE[0]} within 30 s"
	fi

	for role in "${ROLES[@]}"; do
		if ns_exists "$prefix-$role"; then
			die "namespace $prefix-$role already exists (netns-hosts.sh down $prefix removes it)"
		fi
	done
	for link in "$prefix-br" "$prefix-vs" "$prefix-v1" "$prefix-v2"; do
		if link_exists "$link"; then
			die "interface $link already exists (netns-hosts.sh down $prefix removes it)"
		fi
	done
	dev=$(subnet_user "$(ip_to_int "198.18.$n.0")" 24)
	[ -z "$dev" ] || die "subnet 198.18.$n.0/24 already in use by interface $dev"

	# The first namespace tells whether this machine allows them at all.
	if ! err=$(ip netns add "$prefix-srv" 2>&1); then
		ns_exists "$prefix-srv" && die "namespace $prefix-srv appeared meanwhile: $err"
		skip "netns not permitted: $(echo "$err" | tr '\n' ' ' | sed 's/ *$//')"
	fi
	# From here on, every name with this prefix is ours: undo it all on failure.
	UP_PREFIX=$prefix
	trap undo_up EXIT
	trap 'exit 130' INT TERM

	ip netns add "$prefix-l1"
	ip netns add "$prefix-l2"
	ip link add "$prefix-br" type bridge
	ip addr add "198.18.$n.1/24" dev "$prefix-br"
	ip link set "$prefix-br" up
	for role in "${ROLES[@]}"; do
		ns=$prefix-$role
		link=$(veth_name "$prefix" "$role")
		addr=198.18.$n.$(host_suffix "$role")
		# The peer is born inside the namespace, so `eth0` never meets the
		# root namespace's own eth0.
		ip link add "$link" type veth peer name eth0 netns "$ns"
		ip link set "$link" master "$prefix-br"
		ip link set "$link" up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$addr/24" dev eth0
		ip -n "$ns" link set eth0 up
	done

	printf '%s\n' \
		"server=netns:$prefix-srv" "server_addr=198.18.$n.10" \
		"load1=netns:$prefix-l1" "load1_addr=198.18.$n.11" \
		"load2=netns:$prefix-l2" "load2_addr=198.18.$n.12" \
		"bridge_addr=198.18.$n.1"
}

# sshd_pid PIDFILE CONFIG: the PID in PIDFILE if it is a live sshd started
# with CONFIG (not a stranger that inherited a recycled PID).
sshd_pid() {
	local pid exe cmdline
	[ -f "$1" ] || return 1
	pid=$(tr -dc 0-9 <"$1")
	[ -n "$pid" ] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	[ "${exe##*/}" = sshd ] || return 1
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *"$2"* ]] || return 1
	echo "$pid"
}

# gone PID: the process has exited: no longer in /proc, or a zombie left for
# an init that may be slow to reap (sshd daemonised, so init is its parent).
gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}

# stop_sshd DIR: stop the sshd whose pid file and config are in DIR, by its
# PID only, and wait (bounded) for it to go.
stop_sshd() {
	local dir=$1 pid
	pid=$(sshd_pid "$dir/sshd.pid" "$dir/sshd_config") || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 50); do
		gone "$pid" && return 0
		sleep 0.1
	done
	echo "netns-hosts.sh: sshd $pid still alive 5 s after SIGTERM, sending SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null || true
}

# ssh_works CONFIG ADDR: one bounded login attempt.
ssh_works() {
	timeout 5 ssh -F "$1" -o ConnectTimeout=2 "root@$2" true </dev/null >/dev/null 2>&1
}

cmd_sshd() {
	[ $# -eq 2 ] || usage
	local prefix=$1 ns=$2 role state dir addr pid deadline
	check_prefix "$prefix"
	role=${ns#"$prefix"-}
	case $role in
	srv | l1 | l2) ns=$prefix-$role ;;
	*) die "namespace '$2' is not one of $prefix-srv, $prefix-l1, $prefix-l2" ;;
	esac
	need_ip
	[ -x "$SSHD" ] || skip "sshd not installed: $SSHD missing (apt-get install -y openssh-server)"
	command -v ssh >/dev/null 2>&1 || skip "sshd not installed: ssh client missing (apt-get install -y openssh-client)"
	command -v ssh-keygen >/dev/null 2>&1 || skip "sshd not installed: ssh-keygen missing (apt-get install -y openssh-client)"
	[ "$(id -u)" -eq 0 ] || skip "netns not permitted: not root (uid $(id -u))"
	ns_exists "$ns" || die "namespace $ns does not exist (netns-hosts.sh up $prefix first)"
	addr=$(ip -n "$ns" -o -4 addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
	[ -n "$addr" ] || die "no IPv4 address on eth0 in $ns"

	state=$STATE_ROOT/$prefix
	dir=$state/$role
	mkdir -p "$dir"
	chmod 0700 "$state" "$dir"

	# One client key per topology, authorised by every sshd in it.
	if [ ! -f "$state/client_key" ]; then
		ssh-keygen -q -t ed25519 -N '' -C "c10k-netns-$prefix" -f "$state/client_key"
	fi
	cp "$state/client_key.pub" "$state/authorized_keys"
	cat >"$state/ssh_config" <<EOF
Host *
	IdentityFile $state/client_key
	IdentitiesOnly yes
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	LogLevel ERROR
	BatchMode yes
	ConnectTimeout 5
EOF

	if pid=$(sshd_pid "$dir/sshd.pid" "$dir/sshd_config"); then
		echo "netns-hosts.sh: sshd already running in $ns (pid $pid)" >&2
	else
		rm -f "$dir/ssh_host_ed25519_key" "$dir/ssh_host_ed25519_key.pub" "$dir/sshd.pid"
		ssh-keygen -q -t ed25519 -N '' -C "c10k-netns-$ns" -f "$dir/ssh_host_ed25519_key"
		cat >"$dir/sshd_config" <<EOF
ListenAddress $addr:22
HostKey $dir/ssh_host_ed25519_key
AuthorizedKeysFile $state/authorized_keys
PidFile $dir/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
X11Forwarding no
EOF
		# sshd's privilege-separation directory; the package makes it at boot
		# through tmpfiles, which a container may never run.
		if [ ! -d /run/sshd ]; then
			mkdir -m 0755 /run/sshd
		fi
		"$SSHD" -t -f "$dir/sshd_config" || die "sshd -t rejects $dir/sshd_config"
		# sshd daemonises and writes its pid file; -E keeps its log with the state.
		ip netns exec "$ns" "$SSHD" -f "$dir/sshd_config" -E "$dir/sshd.log" \
			</dev/null >/dev/null 2>&1 || die "sshd did not start in $ns: $(tail -n 3 "$dir/sshd.log" 2>/dev/null)"
	fi

	deadline=$((SECONDS + 5))
	until ssh_works "$state/ssh_config" "$addr"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "netns-hosts.sh: ssh root@$addr (in $ns) did not answer within 5 s; sshd log:" >&2
			tail -n 5 "$dir/sshd.log" >&2 2>/dev/null || true
			# Without PAM, sshd refuses any account whose password field
			# starts with '!' (locked), key or not.
			if getent shadow root 2>/dev/null | cut -d: -f2 | grep -q '^!'; then
				echo "netns-hosts.sh: root's account is locked ('!' in /etc/shadow), which sshd refuses with UsePAM no; 'usermod -p \"*\" root' unlocks it for key logins only" >&2
			fi
			stop_sshd "$dir"
			exit 1
		fi
		sleep 0.1
	done

	printf '%s\n' "ssh=ssh://root@$addr" "ssh_config=$state/ssh_config"
}

cmd_down() {
	[ $# -eq 1 ] || usage
	local prefix=$1 state dir role ns pids leftover=0
	check_prefix "$prefix"
	need_ip
	[ "$(id -u)" -eq 0 ] || skip "netns not permitted: not root (uid $(id -u))"
	state=$STATE_ROOT/$prefix
	for role in "${ROLES[@]}"; do
		dir=$state/$role
		if [ -f "$dir/sshd.pid" ]; then stop_sshd "$dir"; fi
	done
	# A process left inside a namespace keeps it alive after `ip netns del`.
	# It is not ours to kill (we only know the PIDs we started): say so.
	for role in "${ROLES[@]}"; do
		ns=$prefix-$role
		ns_exists "$ns" || continue
		pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')
		if [ -n "$pids" ]; then
			echo "netns-hosts.sh: namespace $ns still holds processes $pids; it lives on until they exit" >&2
			leftover=1
		fi
	done
	teardown "$prefix" || die "could not remove everything named $prefix-*"
	rm -rf "$state"
	rmdir "$STATE_ROOT" 2>/dev/null || true
	return "$leftover"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
up) cmd_up "$@" ;;
sshd) cmd_sshd "$@" ;;
down) cmd_down "$@" ;;
*) usage ;;
esac
