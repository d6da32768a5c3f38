#!/bin/sh
# kube-proxy's IPVS mode in miniature (run as root on an IPVS kernel, e.g. in the lab VM).
#
# The node is the current network namespace. Three pods (named netns webpod1..3,
# 10.10.N.2, veth to the node at 10.10.N.1) each serve "Hostname: webpodN" with
# busybox httpd on port 80; a client pod (net-pod, 172.16.0.2) reaches the
# service 10.200.1.76:9000 (rr), whose VIP sits on the dummy interface
# kube-ipvs0 as kube-proxy does it; the pods are masqueraded real servers.
#
#   kube-demo.sh [all|setup|traffic|report|cleanup]      (default: all)
#
# Environment: IPVSADM (default: ipvsadm, else ipvsadm-1.31), REQUESTS (100),
# LAB_NS_PREFIX (prefix for the named netns, to run several at once; default none).
set -eu

P=${LAB_NS_PREFIX:-}
REQUESTS=${REQUESTS:-100}
VIP=10.200.1.76
PORT=9000
STATE=${TMPDIR:-/tmp}/${P}kube-demo
if [ -z "${IPVSADM:-}" ]; then
	if command -v ipvsadm >/dev/null 2>&1; then IPVSADM=ipvsadm; else IPVSADM=ipvsadm-1.31; fi
fi

# The real iproute2 (busybox's sh would run its own `ip` applet, which has no netns).
IP=
for c in /sbin/ip /usr/sbin/ip /bin/ip /usr/bin/ip; do
	if [ -x "$c" ] && [ ! -L "$c" ]; then IP=$c; break; fi
done
[ -n "$IP" ] || IP=$(command -v ip)
ip() { "$IP" "$@"; }

pods="1 2 3"

setup() {
	mkdir -p "$STATE"
	echo 1 >/proc/sys/net/ipv4/ip_forward
	ip link set lo up
	ip link add kube-ipvs0 type dummy
	ip addr add $VIP/32 dev kube-ipvs0
	ip link set kube-ipvs0 up
	for n in $pods; do
		ns=${P}webpod$n
		ip netns add "$ns"
		ip link add "vw$n" type veth peer name eth0 netns "$ns"
		ip addr add "10.10.$n.1/24" dev "vw$n"
		ip link set "vw$n" up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "10.10.$n.2/24" dev eth0
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add default via "10.10.$n.1"
		mkdir -p "$STATE/www$n"
		echo "Hostname: webpod$n" >"$STATE/www$n/index.html"
		ip netns exec "$ns" busybox httpd -p 80 -h "$STATE/www$n"
	done
	ns=${P}net-pod
	ip netns add "$ns"
	ip link add vc type veth peer name eth0 netns "$ns"
	ip addr add 172.16.0.1/24 dev vc
	ip link set vc up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add 172.16.0.2/24 dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via 172.16.0.1
	# Wait until every pod answers (directly, not through the service).
	for n in $pods; do
		tries=0
		until ip netns exec "$ns" busybox wget -q -O /dev/null "http://10.10.$n.2/" 2>/dev/null; do
			tries=$((tries + 1))
			[ $tries -lt 50 ] || { echo "webpod$n does not answer" >&2; exit 1; }
			sleep 0.2
		done
	done
	$IPVSADM -A -t $VIP:$PORT -s rr
	for n in $pods; do
		$IPVSADM -a -t $VIP:$PORT -r "10.10.$n.2:80" -m
	done
	# Check with the kernel itself: 10.200.1.76:9000 is 0AC8014C:2328 there.
	if [ "$(grep -c '0AC8014C:2328' /proc/net/ip_vs)" != 1 ] ||
		[ "$(grep -c -E -e '-> 0A0A0[123]02:0050 +Masq' /proc/net/ip_vs)" != 3 ]; then
		echo "kube-demo: the IPVS service or its real servers are missing after '$IPVSADM -A/-a' (is $IPVSADM working?):" >&2
		cat /proc/net/ip_vs >&2
		exit 1
	fi
}

# $REQUESTS requests from net-pod to the service; prints the spread.
traffic() {
	ip netns exec "${P}net-pod" sh -c "
		i=0
		while [ \$i -lt $REQUESTS ]; do
			busybox wget -q -O - http://$VIP:$PORT/
			i=\$((i + 1))
		done" | sort | uniq -c
}

report() {
	for args in "-Ln" "-Ln -t $VIP:$PORT --stats" "-Ln -t $VIP:$PORT --rate"; do
		echo
		echo "# ipvsadm $args"
		# shellcheck disable=SC2086
		$IPVSADM $args
	done
	if $IPVSADM -Ln --json >/dev/null 2>&1; then
		echo
		echo "# ipvsadm -Ln --json"
		$IPVSADM -Ln --json
	fi
}

cleanup() {
	$IPVSADM -D -t $VIP:$PORT 2>/dev/null || true
	for ns in "${P}webpod1" "${P}webpod2" "${P}webpod3" "${P}net-pod"; do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -z "$pids" ] || kill $pids 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	ip link del kube-ipvs0 2>/dev/null || true
	for dev in vw1 vw2 vw3 vc; do ip link del "$dev" 2>/dev/null || true; done
	rm -rf "$STATE"
}

case "${1:-all}" in
setup) setup ;;
traffic) traffic ;;
report) report ;;
cleanup) cleanup ;;
all)
	trap cleanup EXIT
	echo "# kube-proxy IPVS mode in miniature: service $VIP:$PORT (rr) -> webpod1..3, using $IPVSADM"
	setup
	echo "# $REQUESTS requests from net-pod: wget -q -O - http://$VIP:$PORT/"
	traffic
	echo "# waiting 3 s for the kernel's rate estimator"
	sleep 3
	report
	;;
*)
	echo "usage: $0 [all|setup|traffic|report|cleanup]" >&2
	exit 2
	;;
esac
