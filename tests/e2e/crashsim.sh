#!/bin/sh
# Simulated power loss (docs/reliability.md, T2 and T9, "Crash
# simulation"): daemon/pipelined-crashsim (configure --enable-crashsim)
# runs under load -- clients submitting all the time, every
# acknowledgement logged -- and loses power at a random sync or write:
# each write not synced yet is applied, dropped or torn (without
# powersafe overwrite: its sectors garbaged), directory changes not synced
# may be undone.  The normal daemon then starts on what is left: every
# acknowledged submission must be there with its input, no status gone
# back, damage only where writes were not durable yet (the newest
# segment's tail), the daemon starting every time.  Segments are 64 KiB,
# so that rotations happen under load too, and the replay check
# (PIPELINED_REPLAY_CHECK) runs all along.  Then the teeth: with syncs
# that make nothing durable, the same checks must find lost
# acknowledgements.
#   PIPELINED_CRASHSIM_LOOPS   crashes per model (default 30; soak 2000)
#   PIPELINED_CRASHSIM_MODELS  the models (default "psow sector")
#   PIPELINED_CRASHSIM_CLIENTS clients submitting (default 4)
#   PIPELINED_CRASHSIM_KEEP    a directory to keep the crash reports in
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/e2e/ackload.sh"
need python3
set -e

need_crashsim
LOOPS=${PIPELINED_CRASHSIM_LOOPS:-30}
MODELS=${PIPELINED_CRASHSIM_MODELS:-psow sector}
CLIENTS=${PIPELINED_CRASHSIM_CLIENTS:-4}
REPLAY=${PIPELINED_REPLAY_CHECK:-100}
SEGMAX=65536
# The crash comes at sync 1..SMAX or write 1..WMAX of the run: a few
# seconds of load at most (start-up's own syncs and writes included).
SMAX=120
WMAX=80
CRASH_EXIT=86

# crashsim_run MODEL TRIGGER SEED: pipelined-crashsim on the state
# directory (in the daemon's cgroup, as daemon_start does) until its
# simulated power loss, at most 60 s; its exit status in $cs_rc.
crashsim_run() {
	[ -n "$DAEMON_CG" ] || daemon_cgroup
	rm -f report
	(
		export PIPELINED_CRASHSIM="$2" PIPELINED_CRASHSIM_MODEL="$1" \
		    PIPELINED_CRASHSIM_SEED="$3" \
		    PIPELINED_CRASHSIM_REPORT="$PWD/report" \
		    PIPELINED_CRASHSIM_SEGMENT_MAX=$SEGMAX \
		    PIPELINED_REPLAY_CHECK="$REPLAY"
		if [ -n "$DAEMON_CG" ]; then
			exec sh -c 'echo $$ >"$1/cgroup.procs" 2>/dev/null; shift; exec "$@"' \
			    sh "$DAEMON_CG" "$CRASHSIM" --foreground --config "$CONF" \
			    --socket "$SOCK" --state-dir "$STATE" --max-parallel 8
		fi
		exec "$CRASHSIM" --foreground --config "$CONF" --socket "$SOCK" \
		    --state-dir "$STATE" --max-parallel 8
	) >>"$DAEMON_LOG" 2>&1 &
	_cs=$!
	if ! wait_for -t 60 proc_dead "$_cs"; then
		echo "  (no crash within 60 s: $2)" >&2
		kill -KILL "$_cs" 2>/dev/null || :
	fi
	set +e
	wait "$_cs"
	cs_rc=$?
	set -e
}

# normal_stop: SIGTERM the normal daemon; 1 unless it exits 0.
normal_stop() {
	_pid=$DAEMON_PID
	DAEMON_PID=
	kill -TERM "$_pid" 2>/dev/null || :
	wait_for -t 20 proc_dead "$_pid" || kill -KILL "$_pid" 2>/dev/null || :
	set +e
	wait "$_pid"
	_rc=$?
	set -e
	[ "$_rc" -eq 0 ] && return 0
	echo "  (the normal daemon exited $_rc on SIGTERM)" >&2
	return 1
}

# trigger: where the next crash comes.
trigger() {
	case $(rand 8) in
	0 | 1 | 2) echo "write:$(($(rand $WMAX) + 1)):after" ;;
	3) echo "sync:$(($(rand $SMAX) + 1)):after" ;;
	*) echo "sync:$(($(rand $SMAX) + 1))" ;;
	esac
}

# crash_loop MODEL LOOPS: crash, check, restart LOOPS times in a fresh
# state directory.  Sets bad_exit, bad_damage, bad_state, bad_stop, lost
# (crashes after which acknowledged ids were missing), torn, hole.
crash_loop() {
	newdir "$1"
	kl_yaml
	rm -rf "$STATE"
	: >known.damage
	: >reports
	bad_exit=0 bad_damage=0 bad_state=0 bad_stop=0 lost=0 torn=0 hole=0
	clients_start "$CLIENTS"
	_i=0
	while [ "$_i" -lt "$2" ]; do
		_i=$((_i + 1))
		_trig=$(trigger)
		_seed=$(rand 65536)
		crashsim_run "$1" "$_trig" "$_seed"
		# Every acknowledgement came before the crash.
		cat acks.[0-9]* >acks.snap
		if [ -f report ]; then
			echo "# crash $_i: $_trig seed $_seed" >>reports
			cat report >>reports
		fi
		if [ "$cs_rc" -ne "$CRASH_EXIT" ]; then
			bad_exit=$((bad_exit + 1))
			echo "  (crash $_i: pipelined-crashsim exited $cs_rc, not $CRASH_EXIT: $_trig seed $_seed)" >&2
			tail -n 5 "$DAEMON_LOG" | sed 's/^/  daemon: /' >&2
		fi
		if [ "$1" != nosync ]; then
			"$PIPELINED" --verify --state-dir "$STATE" >verify.out 2>&1 || :
			if _f=$(python3 "$top_srcdir/tests/e2e/crashsim_check.py" \
			    report verify.out known.damage); then
				_f=${_f#torn }
				torn=$((torn + ${_f%% *}))
				hole=$((hole + ${_f##* }))
			else
				bad_damage=$((bad_damage + 1))
				echo "  (crash $_i: $_trig seed $_seed)" >&2
				sed 's/^/  report: /' report >&2 || :
			fi
		fi
		daemon_start --max-parallel 8
		pctl list --limit 1000000 --json >post.json
		if ! check_state post.json 2>state.err; then
			if grep -q "acknowledged ids missing" state.err; then
				lost=$((lost + 1))
			fi
			if [ "$1" != nosync ]; then
				bad_state=$((bad_state + 1))
				cat state.err >&2
				echo "  (crash $_i: $_trig seed $_seed)" >&2
				sed 's/^/  report: /' report >&2 || :
			fi
		fi
		normal_stop || bad_stop=$((bad_stop + 1))
		if [ "$1" = nosync ] && [ "$lost" -gt 0 ]; then
			break
		fi
	done
	clients_stop
	if [ -n "${PIPELINED_CRASHSIM_KEEP:-}" ]; then
		cp reports "$PIPELINED_CRASHSIM_KEEP/$1.reports"
	fi
	nacks=$(cat acks.[0-9]* | wc -l | tr -d ' ')
	crashes=$_i
}

for model in $MODELS; do
	t0=$(now_cs)
	crash_loop "$model" "$LOOPS"
	t1=$(now_cs)
	echo "crashsim $model: $crashes crashes in $(((t1 - t0) / 100)) s," \
	    "$nacks acknowledged submissions, $lost with acknowledged ids lost," \
	    "$torn torn tails, $hole holes in the unsynced tail"
	# What the power losses did to the writes not synced yet.
	awk '$1 == "file" { n++; w += $10; a += $12; d += $14; t += $16; g += $18 }
	    $1 == "dir" { dir[$2]++ }
	    END { printf "crashsim %s: %d files with unsynced writes, %d writes: " \
		"%d applied, %d dropped, %d torn, %d garbage; directory " \
		"changes undone %d, kept %d\n", m, n, w, a, d, t, g,
		dir["undone"], dir["kept"] }' m="$model" reports
	check "crashsim $model: pipelined-crashsim lost power (exit $CRASH_EXIT) each of the $crashes times, no other failure" \
		test "$bad_exit" -eq 0
	check "crashsim $model: submissions were acknowledged all along" \
		test "$nacks" -ge "$crashes"
	check "crashsim $model: after every crash: every acknowledged id there with its input, no status back" \
		test "$bad_state" -eq 0
	check "crashsim $model: after every crash: damage only where writes were not synced yet" \
		test "$bad_damage" -eq 0
	check "crashsim $model: the normal daemon started after every crash and stopped cleanly" \
		test "$bad_stop" -eq 0
done

# The replay check ran (a mismatch aborts: a bad exit above).
nchecks=$(grep -c "replay check [0-9]*: .*identical" "$DAEMON_LOG" || :)
echo "replay check: $nchecks re-replays identical to the live history"
check "replay check: the journal was re-read and compared during the load" \
	test "$nchecks" -gt 0

# The teeth: syncs that make nothing durable must lose acknowledged ids.
t0=$(now_cs)
SMAX=60
crash_loop nosync 5
t1=$(now_cs)
echo "crashsim nosync (teeth): $crashes crashes in $(((t1 - t0) / 100)) s, $lost with acknowledged ids lost"
check "crashsim teeth: with syncs stubbed out the checker finds lost acknowledgements" \
	test "$lost" -gt 0

finish
