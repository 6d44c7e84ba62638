// Package netnstest gives tests three throw-away "hosts" on one machine:
// network namespaces built by scripts/netns-hosts.sh, so the code behind
// `c10k bench -server-host/-load-hosts` (issue 14) is tested across real
// network boundaries without real machines.
//
// Up builds a server namespace and two load namespaces on a bridge in the
// root namespace, each with its own address in 198.18.N.0/24 (RFC 2544's
// benchmark range) and loopback up, and removes them when the test ends.
// The hosts are named by the specs the harness takes ("netns:NAME"); SSHD
// starts an sshd in one of them for the "ssh://root@ADDR" spec. Tests that
// cannot have namespaces (not root, no iproute2, a container that refuses
// them) are skipped, never failed:
//
//	func TestRemoteLoad(t *testing.T) {
//		topo := netnstest.Up(t)
//		host, cfg := topo.SSHD(t, topo.Load1)
//		// run the server in topo.Server, the load generator through host
//		// with `ssh -F cfg`, and aim it at topo.ServerAddr.
//	}
package netnstest
