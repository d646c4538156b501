#!/bin/sh
# Supervision under stress (docs/reliability.md, T12): many short task
# results at a high max-parallel - instant exits with random codes, tasks
# killing themselves with a signal, tasks leaving a setsid grandchild
# behind - each writing what it really did to a side file.  Every
# recorded outcome must be the true one; afterwards no zombie child, the
# daemon's fds back to their count and its RSS within 5% of what it was
# after a warm-up batch.  Then long sleepers with setsid grandchildren,
# cancelled: nothing left, by cgroup and by a scan of /proc.
#
# Sizes (CI defaults; the full size is 10000 results at 64, run by
# "make soak-stress"):
#   PIPELINED_STRESS_RESULTS   task results in the measured batch (2000)
#   PIPELINED_STRESS_PARALLEL  the daemon's --max-parallel (32)
#   PIPELINED_STRESS_ROUNDS    rounds the batch is run in, after a warm-up
#                              round of the same size (4)
#   PIPELINED_STRESS_EXECS     executions each round is split into (4)
. "$(dirname "$0")/lib.sh"
need python3
set -e

RESULTS=${PIPELINED_STRESS_RESULTS:-2000}
PAR=${PIPELINED_STRESS_PARALLEL:-32}
EXECS=${PIPELINED_STRESS_EXECS:-4}
ROUNDS=${PIPELINED_STRESS_ROUNDS:-4}
# A word only this test's processes carry in their command line.
MARK="stressmark$$"

# Under AddressSanitizer freed memory waits in a quarantine (256 MiB)
# before reuse and the allocator keeps its own books: RSS says nothing
# about leaks there (LeakSanitizer checks at exit instead).  The RSS gate
# holds in an ordinary build (make distcheck runs one).
SANITIZED=false
if ldd "$PIPELINED" 2>/dev/null | grep -q libasan; then
	SANITIZED=true
fi
daemon_start --max-parallel "$PAR"
DPID=$DAEMON_PID

# --- the daemon's resources ------------------------------------------------

# fd_count: the daemon's open descriptors.
fd_count() {
	ls "/proc/$DPID/fd" | wc -l | tr -d ' '
}

# rss_kib: the daemon's resident set.
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status"
}

# zombies: the daemon's children that are zombies, as "pid comm" lines.
zombies() {
	for _s in /proc/[0-9]*/stat; do
		cat "$_s" 2>/dev/null
	done | awk -v d="$DPID" '{
		# comm may hold spaces: the fields after it count from ")".
		i = index($0, ") "); rest = substr($0, i + 2); split(rest, f, " ")
		if (f[2] == d && f[1] == "Z") print $1, substr($0, index($0, "("), i - index($0, "(") + 1)
	}'
}

# marked WORD: pids of live processes whose command line holds WORD.
marked() {
	for _d in /proc/[0-9]*; do
		_p=${_d#/proc/}
		[ "$_p" != $$ ] || continue
		if { tr '\0' ' ' <"$_d/cmdline"; } 2>/dev/null | grep -q -- "$1"; then
			proc_alive "$_p" && echo "$_p"
		fi
	done
	return 0
}

# none_marked WORD: no live process carries WORD.
none_marked() {
	[ -z "$(marked "$1")" ]
}

# cgroup_procs: processes left in the daemon's task cgroups.
cgroup_procs() {
	_root=$(sed -n 's/.*tasks get cgroups under //p' "$DAEMON_LOG" | tail -n 1)
	[ -n "$_root" ] && [ -d "$_root" ] || return 0
	find "$_root" -name cgroup.procs -exec cat {} + 2>/dev/null
}

no_cgroup_procs() {
	[ -z "$(cgroup_procs)" ]
}

# --- the batch -----------------------------------------------------------

newdir batch
mkdir side
# gen N SEED: a pipeline whose iterator items say what each task does:
# "e:N" exit N; "s:N" kill itself with signal N; "g:N" start a setsid
# grandchild that outlives the task a little, then exit N.
gen() {
	python3 - "$1" "$2" "$MARK" <<'EOF'
import random, sys
n, seed, mark = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rnd = random.Random(seed)
items = []
for _ in range(n):
    r = rnd.random()
    if r < 0.5:
        items.append("e:%d" % rnd.choice([0, 0, 0, 1, 2, 3, 42, 127, 128, 255, rnd.randrange(256)]))
    elif r < 0.8:
        items.append("s:%d" % rnd.choice([1, 2, 6, 9, 10, 11, 12, 13, 15]))
    else:
        items.append("g:%d" % rnd.choice([0, 1, 7]))
print("name: stress")
print("iterate: [%s]" % ", ".join('"%s"' % i for i in items))
print("tasks:")
print("  t:")
print("    run: |")
for line in r'''
f=side/$PIPELINE_EXECUTION_ID.$PIPELINE_RESULT_INDEX
v=${PIPELINE_OBJECT#*:}
case $PIPELINE_OBJECT in
e:*) echo "exit $v" >>$f; exit $v ;;
s:*) echo "signal $v" >>$f; kill -$v $$; sleep 5; echo "still alive" >>$f; exit 99 ;;
g:*) setsid sh -c 'echo $$ >>grand; sleep 0.3; :' MARK &
     echo "exit $v" >>$f; exit $v ;;
esac
'''.strip().splitlines():
    print("      " + line.replace("MARK", mark))
EOF
}

# batch N SEED: submit N task results as $EXECS executions at once, wait
# for them all; their ids are appended to ids.
batch() {
	_per=$(($1 / EXECS))
	_k=0
	_ids=
	while [ $_k -lt "$EXECS" ]; do
		gen "$_per" $(($2 + _k)) >"p.$_k.yaml"
		submit "p.$_k.yaml"
		_ids="$_ids $ID"
		echo "$ID" >>ids
		_k=$((_k + 1))
	done
	for _id in $_ids; do
		set +e
		wait_exec "$_id" 1800
		_rc=$?
		set -e
		[ "$_rc" -ne 124 ] || fail "execution $_id did not end in 30 minutes"
	done
}

# verify IDS...: every recorded outcome equals the side file's.
verify() {
	for _id in "$@"; do
		pctl show "$_id" --json >"show.$_id.json" || return 1
	done
	python3 - "$@" <<'EOF'
import json, sys
bad, n, kinds = [], 0, {}
for i in sys.argv[1:]:
    d = json.load(open("show.%s.json" % i))
    for r in d["results"]:
        inst = r["tasks"][0]["instances"][0]
        n += 1
        try:
            lines = open("side/%s.%d" % (i, r["index"])).read().split("\n")
        except OSError:
            lines = []
        lines = [l for l in lines if l]
        if len(lines) != 1:
            bad.append("%s/%d: side file %s" % (i, r["index"], lines))
            continue
        kind, v = lines[0].split()
        v = int(v)
        kinds[kind] = kinds.get(kind, 0) + 1
        got = (inst["status"], inst["exit_code"], inst["signal"], inst["attempts"])
        if kind == "exit":
            want = ("DONE" if v == 0 else "RUNTIME_ERROR", v, None, 1)
        else:
            want = ("RUNTIME_ERROR", None, v, 1)
        if got != want:
            bad.append("%s/%d: recorded %s, true %s" % (i, r["index"], got, want))
print("  %d task results checked (%s)" % (n, ", ".join("%d %s" % (c, k) for k, c in sorted(kinds.items()))))
for b in bad[:20]:
    print("  " + b, file=sys.stderr)
if bad:
    print("  %d mismatches" % len(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# quiet: no client connected but the asking one (what the counts are
# taken at).
quiet() {
	! connections_at_least 2
}

# round NAME N SEED: one round of N task results, checked, then gc'd (so
# that the history in memory stays one round's worth: what grows from
# round to round is a leak).
round() {
	: >ids
	batch "$2" "$3"
	# shellcheck disable=SC2046
	if ! verify $(cat ids); then
		bad_rounds=$((bad_rounds + 1))
	fi
	_z=$(zombies)
	if [ -n "$_z" ]; then
		echo "  zombies after $1: $_z" >&2
		zombie_rounds=$((zombie_rounds + 1))
	fi
	pctl gc --older-than 1ms >/dev/null
	wait_for quiet || :
	echo "  $1: daemon RSS $(rss_kib) KiB, $(fd_count) fds"
}
bad_rounds=0
zombie_rounds=0

# The warm-up: one round; the baseline is taken after it.
PERROUND=$((RESULTS / ROUNDS))
round warm-up "$PERROUND" 1
FD0=$(fd_count)
RSS0=$(rss_kib)

t0=$(now_cs)
r=1
while [ $r -le "$ROUNDS" ]; do
	round "round $r" "$PERROUND" $((r * 100))
	r=$((r + 1))
done
t1=$(now_cs)
echo "batch: $RESULTS task results at max-parallel $PAR in $(((t1 - t0) / 100)) s" \
	"($(((RESULTS * 100) / (t1 - t0 + 1))) a second); load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
check "stress: every recorded outcome (status, exit code, signal, attempts) is the true one" \
	test "$bad_rounds" -eq 0
check "stress: no zombie among the daemon's children (after every round)" \
	test "$zombie_rounds" -eq 0
same_fds() {
	[ "$(fd_count)" -eq "$FD0" ]
}
wait_for same_fds || :
FD1=$(fd_count)
RSS1=$(rss_kib)
echo "after the batch: daemon fds $FD1 (baseline $FD0), RSS $RSS1 KiB" \
	"(baseline $RSS0 KiB, $(((RSS1 - RSS0) * 1000 / RSS0)) per mille)"
check "stress: the daemon's fd count is back to its baseline" is "$FD0" "$FD1"
if $SANITIZED; then
	skip "stress: the daemon's RSS is within 5% of its baseline" \
	    "a sanitizer build"
else
	check "stress: the daemon's RSS is within 5% of its baseline" \
	    test $(((RSS1 - RSS0) * 100)) -le $((RSS0 * 5))
fi
check "stress: the setsid grandchildren are gone" wait_for -t 10 gone grand

# --- long sleepers cancelled ---------------------------------------------------
newdir cancel
# The marker comes through the environment, so that only the sleepers
# carry it in their command line, not the task's shell.
cat >p.yaml <<EOF
name: sleepers
iterate: [$(seq -s ', ' 1 "$PAR")]
env: {MARK: $MARK}
tasks:
  s: {run: 'setsid sh -c "sleep 600; :" \$MARK-setsid & echo \$! >>grand.\$PIPELINE_RESULT_INDEX; sh -c "sleep 600; :" \$MARK-child & echo \$\$ >>pid.\$PIPELINE_RESULT_INDEX; wait'}
EOF
submit p.yaml
SLEEP=$ID
check "cancel: $PAR sleepers running, each with a setsid grandchild" \
	wait_for -t 60 sh -c '[ "$(cat grand.* 2>/dev/null | wc -l)" -eq "$1" ] &&
	    [ "$(cat pid.* 2>/dev/null | wc -l)" -eq "$1" ]' sh "$PAR"
check "cancel: the /proc scan sees them: $PAR children, $PAR setsid grandchildren" \
	is "$PAR $PAR" "$(marked "$MARK-child" | wc -l | tr -d ' ') $(marked "$MARK-setsid" | wc -l | tr -d ' ')"
if have_cgroups; then
	check "cancel: the tasks' cgroups hold them (5 processes a task at least)" \
	    test "$(cgroup_procs | wc -l)" -ge $((5 * PAR))
fi
expect_exit 0 "cancel: pipectl cancel" pctl cancel "$SLEEP"
wait_exec "$SLEEP" 60 || :
check "cancel: every sleeper recorded CANCELLED" is "CANCELLED $PAR" \
	"$(sx "$SLEEP" 'd["status"] + " " + str(len([r for r in d["results"] if r["tasks"][0]["instances"][0]["status"] == "CANCELLED"]))')"
if have_cgroups; then
	check "cancel: no process left in the tasks' cgroups" wait_for -t 10 no_cgroup_procs
else
	skip "cancel: no process left in the tasks' cgroups" "no cgroups for tasks"
fi
check "cancel: no child left (a /proc scan for the marker)" \
	wait_for -t 10 none_marked "$MARK-child"
if have_cgroups; then
	check "cancel: no setsid grandchild left (a /proc scan for the marker)" \
	    wait_for -t 10 none_marked "$MARK-setsid"
else
	skip "cancel: no setsid grandchild left" \
	    "no cgroups for tasks: they leave the process group"
fi
check "cancel: no zombie among the daemon's children" is "" "$(zombies)"

finish
