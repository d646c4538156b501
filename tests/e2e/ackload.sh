# The load and the acknowledgement checks shared by the crash tests
# (journal_crash.sh: kill -9; crashsim.sh and crashsim_gc.sh: simulated
# power loss), sourced after lib.sh, in the directory the load runs in.

# need_crashsim: skip the test (77) unless the crash-simulation daemon was
# built (configure --enable-crashsim); sets CRASHSIM to it.
need_crashsim() {
	CRASHSIM="$top_builddir/daemon/pipelined-crashsim"
	if [ ! -x "$CRASHSIM" ]; then
		echo "SKIP: no $CRASHSIM (configure --enable-crashsim)"
		finished=1
		exit 77
	fi
}

# kl_yaml: the pipeline every client submits (a fan-out, failures, a
# retry, short sleeps), into kl.yaml.
kl_yaml() {
	cat >kl.yaml <<'EOF'
name: kl
ordering: {fan: [first], join: [fan]}
tasks:
  first: {run: 'echo first; sleep 0.$(($$ % 3))'}
  fan:
    run: 'echo "fan $TASK_INDEX"; sleep 0.$(($$ % 4)); exit $(($$ % 5 == 0))'
    iterate: [0, 1, 2, 3]
    retries: 1
  join: {run: 'echo join'}
  side: {run: 'sleep 0.$(($$ % 5)); exit $(($$ % 3 == 0))'}
EOF
}

# client N: submit until told to stop (a file named stop); every
# acknowledged id goes to acks.N with the client and submission number it
# was given as input.  Each waits (a while) for its execution to end
# before the next one, so that the load stays bounded.
client() {
	set +e
	_n=0
	while [ ! -e stop ]; do
		_n=$((_n + 1))
		if _id=$(pctl run kl.yaml --input client="$1" --input n=$_n 2>/dev/null); then
			echo "$_id $1 $_n" >>"acks.$1"
			timeout 3 "$PIPECTL" --socket "$SOCK" wait "$_id" >/dev/null 2>&1
		else
			sleep 0.05
		fi
	done
}

# clients_start N: N clients in the background (their pids in $cpids).
clients_start() {
	cpids=
	_c=0
	while [ $_c -lt "$1" ]; do
		: >"acks.$_c"
		client $_c &
		cpids="$cpids $!"
		_c=$((_c + 1))
	done
}

# clients_stop: tell the clients to stop and wait for them.
clients_stop() {
	touch stop
	for _p in $cpids; do
		wait "$_p" || :
	done
	rm -f stop
}

# check_state [--final] LIST.json...: ackcheck.py (its state kept in
# seen.json) on lists taken in this order, against acks.snap, read before
# the first list: every acknowledged id listed with its input, none twice,
# no status going back; with --final, nothing unfinished.  One python3 per
# crash: the loop's time goes to the crashes, not the checks.
check_state() {
	python3 "$top_srcdir/tests/e2e/ackcheck.py" "$@"
}

# verify_crashed: --verify on the journal left by a crash: no damage but a
# torn tail (counted in $torn).
verify_crashed() {
	set +e
	"$PIPELINED" --verify --state-dir "$STATE" >verify.out 2>verify.err
	_rc=$?
	set -e
	[ "$_rc" -eq 0 ] && return 0
	if [ "$_rc" -eq 1 ] && grep -q "^damage: " verify.out &&
	    ! grep "^damage: " verify.out | grep -qv "(torn tail)\$"; then
		torn=$((torn + 1))
		return 0
	fi
	sed 's/^/  verify: /' verify.out | grep -v "^  verify: damage: .*(torn tail)\$" >&2
	return 1
}

# rand N: a random number in 0..N-1 (N <= 65536).
rand() {
	_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((_r % $1))
}

# rand_sleep: 0 to 2 s, in hundredths.
rand_sleep() {
	_r=$(rand 201)
	sleep "$((_r / 100)).$((_r / 10 % 10))$((_r % 10))"
}
