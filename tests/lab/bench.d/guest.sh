#!/bin/sh
# The part of tests/lab/bench that runs inside the lab VM.
#
#   guest.sh RUNS SCENARIO...
#
# Expects /bench/measure, /bench/rules/SCENARIO.rules, our ipvsadm as
# /usr/local/sbin/ipvsadm and the reference as /usr/sbin/ipvsadm-1.31.
# Prints one line per measurement and per check, tab-separated:
#
#   M  SCENARIO  OP  TOOL  RUN  wall=.. user=.. sys=.. maxrss=.. status=..
#   C  SCENARIO  WHAT  ok|DIFF|FAIL  [detail]
#   I  key  value
#
# OP is R (-R of the whole rule set), Ln, Sn, stats (-Ln --stats --exact),
# json (-Ln --json, ours only, run right after each -Ln so the two are
# compared under the same conditions), watch5 (--watch=0.1 --count=5,
# ours) and ln5 (five -Ln in a row, ours, alternating with watch5),
# jwatch5 and json5 (the same with --json), check (--check, ours; it
# reports every service, whose address is local to no interface here)
# and ln2 (two -Ln in a row, ours, alternating with check), dryeq
# (-R --replace --dry-run of the rule set, equal to the table: nothing to
# do, ours) and replace1 (-R --replace of the rule set with 1% of the real
# servers' weights changed, then of the rule set again, ours); TOOL is ref
# or ours.
set -u
RUNS=$1
shift
M=/bench/measure
REF=/usr/sbin/ipvsadm-1.31
OURS=/usr/local/sbin/ipvsadm
W=/tmp/bench
mkdir -p $W

printf 'I\tkernel\t%s\n' "$(uname -r)"
printf 'I\tcpus\t%s\n' "$(grep -c ^processor /proc/cpuinfo)"
printf 'I\tmem_kb\t%s\n' "$(awk '/MemTotal/ { print $2 }' /proc/meminfo)"

# Every -R starts in a network namespace of its own, not after -C: the
# kernel keeps deleted real servers in a per-namespace trash list for a
# minute or two and scans it on every real-server add, so a -R right after
# -C of a big table would mostly measure that scan (5-7x slower, with
# either tool).
nsn=0
NS=
fresh_ns() {
	nsn=$((nsn + 1))
	NS=bench$nsn
	ip netns add $NS && ip -n $NS link set lo up
}
# Empties the table first, then waits for the namespace's teardown (in
# kernel workers) to finish, so it does not run during the next measurement.
drop_ns() {
	ip netns exec $NS $REF -C
	ip netns del $NS
	settle
}
# Waits (at most 120 s) until the CPU was at least 90% idle over a second:
# deferred kernel work of earlier steps would otherwise be timed as ours.
cpu_idle_total() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t }' /proc/stat
}
settle() {
	n=0
	set -- $(cpu_idle_total)
	while [ $n -lt 120 ]; do
		sleep 1
		n=$((n + 1))
		i0=$1 t0=$2
		set -- $(cpu_idle_total)
		[ $(( ($1 - i0) * 10 )) -ge $(( ($2 - t0) * 9 )) ] && return 0
	done
	printf 'I\tsettle_timeout\t%s\n' "$NS"
}
in_ns() {
	ip netns exec $NS "$@"
}

# measure SCENARIO OP TOOL RUN [measure options] -- CMD...   (in $NS)
measure() {
	local m_sc=$1 m_op=$2 m_tool=$3 m_run=$4
	shift 4
	: >$W/report
	in_ns $M -r $W/report "$@"
	printf 'M\t%s\t%s\t%s\t%s\t%s\n' "$m_sc" "$m_op" "$m_tool" "$m_run" "$(cat $W/report)"
}

# check SCENARIO WHAT FILE_REF FILE_OURS
check() {
	if cmp -s "$3" "$4"; then
		printf 'C\t%s\t%s\tok\t%s lines\n' "$1" "$2" "$(wc -l <"$3" | tr -d ' ')"
	else
		printf 'C\t%s\t%s\tDIFF\t%s\n' "$1" "$2" \
			"$(diff "$3" "$4" 2>&1 | head -n 6 | tr '\t\n' ' |')"
	fi
}

bin() {
	case $1 in ref) echo $REF ;; ours) echo $OURS ;; esac
}

for sc in "$@"; do
	rules=/bench/rules/$sc.rules
	# -R, into a fresh namespace each time; the state it leaves is
	# compared. The listings below run on the last one (ours restored it).
	run=1
	while [ $run -le "$RUNS" ]; do
		for tool in ref ours; do
			[ -n "$NS" ] && drop_ns
			fresh_ns
			measure "$sc" R $tool $run -i $rules -- "$(bin $tool)" -R
			[ $run = 1 ] && in_ns $REF -Sn >$W/state.$tool
		done
		run=$((run + 1))
	done
	check "$sc" "state after -R (-Sn)" $W/state.ref $W/state.ours
	# The rule set as the reference saves it must be the one we restored.
	sort $rules >$W/rules.sorted
	sort $W/state.ref >$W/state.sorted
	if cmp -s $W/rules.sorted $W/state.sorted; then
		printf 'C\t%s\t%s\tok\t%s lines\n' "$sc" "rule set loaded" "$(wc -l <$rules | tr -d ' ')"
	else
		printf 'C\t%s\t%s\tFAIL\tkernel state differs from the rule file\n' "$sc" "rule set loaded"
	fi
	rm -f $W/rules.sorted $W/state.sorted $W/state.*

	# Listings of the loaded table (ours restored it last).
	settle
	for op in Ln Sn stats; do
		case $op in
		Ln) set -- -Ln ;;
		Sn) set -- -Sn ;;
		stats) set -- -Ln --stats --exact ;;
		esac
		run=1
		while [ $run -le "$RUNS" ]; do
			for tool in ref ours; do
				measure "$sc" $op $tool $run -o $W/out.$tool -- "$(bin $tool)" "$@"
			done
			[ $op = Ln ] && measure "$sc" json ours $run -o $W/out.json -- $OURS -Ln --json
			run=$((run + 1))
		done
		check "$sc" "$op output" $W/out.ref $W/out.ours
		rm -f $W/out.ref $W/out.ours
	done
	case $(head -c 17 $W/out.json) in
	'{"schema_version"') printf 'C\t%s\tjson output\tok\t%s bytes\n' "$sc" "$(wc -c <$W/out.json | tr -d ' ')" ;;
	*) printf 'C\t%s\tjson output\tFAIL\tnot a JSON document\n' "$sc" ;;
	esac
	rm -f $W/out.json
	# Declarative tables: a dry run of the table itself (nothing to do), and
	# replaces that change 1% of the real servers (every 100th weight),
	# there and back again; each must send exactly those changes.
	run=1
	while [ $run -le "$RUNS" ]; do
		measure "$sc" dryeq ours $run -i $rules -o $W/out.dry -- $OURS -R --replace --dry-run
		run=$((run + 1))
	done
	if [ -s $W/out.dry ]; then
		printf 'C\t%s\tdry run, no change\tFAIL\tprinted %s lines\n' "$sc" "$(wc -l <$W/out.dry | tr -d ' ')"
	else
		printf 'C\t%s\tdry run, no change\tok\tnothing printed\n' "$sc"
	fi
	awk '/^-a / { n++; if (n % 100 == 0) sub(/-w 1$/, "-w 2") } { print }' $rules >$W/changed.rules
	edits=$(( $(grep -c '^-a ' $rules) / 100 ))
	want="replace: $edits changes applied (services: 0 added, 0 edited, 0 deleted; real servers: 0 added, $edits edited, 0 deleted)"
	run=1
	replace_ok=ok
	while [ $run -le "$RUNS" ]; do
		for input in $W/changed.rules $rules; do
			settle
			measure "$sc" replace1 ours $run -i $input -o $W/out.replace -- $OURS -R --replace
			[ "$(cat $W/out.replace)" = "$want" ] || replace_ok="FAIL	$(head -c 200 $W/out.replace)"
			if [ $run = 1 ] && [ $input = $W/changed.rules ]; then
				in_ns $REF -Sn | sort >$W/state.sorted
				sort $input >$W/changed.sorted
				cmp -s $W/state.sorted $W/changed.sorted ||
					printf 'C\t%s\t%s\tFAIL\tthe table is not the input\n' "$sc" "replace state (-Sn)"
			fi
		done
		run=$((run + 1))
	done
	printf 'C\t%s\treplace, 1%% changed\t%s\t%s changes each\n' "$sc" "$replace_ok" "$edits"
	rm -f $W/out.dry $W/out.replace $W/changed.rules $W/state.sorted $W/changed.sorted
	# Watch mode: five refreshes against five separate -Ln runs.
	run=1
	while [ $run -le "$RUNS" ]; do
		measure "$sc" watch5 ours $run -o /dev/null -- $OURS -Ln --watch=0.1 --count=5
		measure "$sc" ln5 ours $run -o /dev/null -- /bin/sh -c \
			"for i in 1 2 3 4 5; do $OURS -Ln; done"
		measure "$sc" jwatch5 ours $run -o /dev/null -- $OURS -Ln --json --watch=0.1 --count=5
		measure "$sc" json5 ours $run -o /dev/null -- /bin/sh -c \
			"for i in 1 2 3 4 5; do $OURS -Ln --json; done"
		run=$((run + 1))
	done
	# --check against two -Ln in a row, alternately.
	run=1
	while [ $run -le "$RUNS" ]; do
		measure "$sc" check ours $run -o $W/out.check -- $OURS --check
		measure "$sc" ln2 ours $run -o /dev/null -- /bin/sh -c "$OURS -Ln; $OURS -Ln"
		run=$((run + 1))
	done
	case $(tail -n 1 $W/out.check) in
	'problems found: '*) printf 'C\t%s\tcheck output\tok\t%s\n' "$sc" "$(tail -n 1 $W/out.check)" ;;
	*) printf 'C\t%s\tcheck output\tFAIL\t%s\n' "$sc" "$(tail -n 1 $W/out.check)" ;;
	esac
	rm -f $W/out.check
	drop_ns
	NS=
done
printf 'I\tdone\t1\n'
