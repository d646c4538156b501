#!/bin/sh
# Multi-user security with real users (docs/security.md):
#
# - the authorization matrix: two users, a member of the admin group and
#   root, each running every operation on their own executions and on
#   others'; another user's execution answers exactly as a missing one;
# - what a task runs as: the submitter's uid, gid and groups, no
#   capabilities, fds 0-2, the task environment; a uid without a user
#   entry runs nothing;
# - forged identity fields in raw requests change nothing;
# - every limit a client controls, exceeded once: a clear error, nothing
#   created, other clients served, the daemon's memory flat;
# - the modes of the state directory, its files and the socket, for a
#   root daemon and for a user's.
#
# Needs root, useradd and setpriv.  It creates the users pl-alice$$,
# pl-bob$$ and pl-carol$$ (carol in pl-admins$$, the admin_group) and a
# group pl-users$$ of all three, and removes them at the end, whatever
# happened.  Users reach the socket as an administrator lets them: root's
# daemon makes it 0660 in group pipelined (root's, without that group),
# and the test gives it to pl-users$$ instead.
. "$(dirname "$0")/lib.sh"
need python3 useradd userdel groupadd groupdel setpriv timeout
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (creates users, runs clients as them)"
	finished=1
	exit 77
fi
set -e

SUF=$$
ALICE=pl-alice$SUF
BOB=pl-bob$SUF
CAROL=pl-carol$SUF
ADMINS=pl-admins$SUF
USERS=pl-users$SUF
EXTRA=pl-extra$SUF
MADE_USERS=
MADE_GROUPS=

# Remove the users and groups made here, after the processes (userdel
# refuses a user who still runs something), then lib.sh's cleanup.
authz_cleanup() {
	_arc=$?
	set +e
	kill_leftovers
	[ -z "${USER_DAEMON:-}" ] || kill -KILL "$USER_DAEMON" 2>/dev/null
	for _u in $MADE_USERS; do
		userdel "$_u" >/dev/null 2>&1 || userdel -f "$_u" >/dev/null 2>&1 ||
		    echo "warning: cannot remove user $_u" >&2
	done
	for _g in $MADE_GROUPS; do
		groupdel "$_g" >/dev/null 2>&1 ||
		    echo "warning: cannot remove group $_g" >&2
	done
	(exit "$_arc")
	cleanup
}
trap authz_cleanup EXIT

for _g in "$ADMINS" "$USERS" "$EXTRA"; do
	groupadd "$_g"
	MADE_GROUPS="$MADE_GROUPS $_g"
done
# mkuser NAME GROUPS: a user with a group of its own and these besides.
mkuser() {
	useradd --no-create-home --shell /usr/sbin/nologin --user-group \
	    --groups "$2" "$1"
	MADE_USERS="$1 $MADE_USERS"
}
mkuser "$ALICE" "$USERS,$EXTRA"
mkuser "$BOB" "$USERS"
mkuser "$CAROL" "$USERS,$ADMINS"

# Each user works in a directory of its own, where its tasks run too;
# the socket's directory and $TMP must be searchable by all.
chmod 711 "$TMP"
for _u in "$ALICE" "$BOB" "$CAROL" root; do
	mkdir -p "$TMP/w-$_u"
	chown "$_u:" "$TMP/w-$_u"
	chmod 700 "$TMP/w-$_u"
done
mkdir "$TMP/p"
chmod 755 "$TMP/p"

# who ROLE: the user name of alice, bob, carol or root.
who() {
	case $1 in
	alice) echo "$ALICE" ;;
	bob) echo "$BOB" ;;
	carol) echo "$CAROL" ;;
	*) echo "$1" ;;
	esac
}

# run_as [-t SECONDS] ROLE COMMAND...: as that user, with its groups, in
# its directory, for at most SECONDS (default 60; 124 when time is up).
run_as() {
	_rt=60
	if [ "$1" = -t ]; then
		_rt=$2
		shift 2
	fi
	_ru=$(who "$1")
	shift
	if [ "$_ru" = root ]; then
		(cd "$TMP/w-root" && timeout "$_rt" "$@")
	else
		(cd "$TMP/w-$_ru" && timeout "$_rt" setpriv --reuid="$_ru" \
		    --regid="$(id -g "$_ru")" --init-groups "$@")
	fi
}

# upc [-t SECONDS] ROLE ARGS...: pipectl as that user.
upc() {
	_pt=60
	if [ "$1" = -t ]; then
		_pt=$2
		shift 2
	fi
	_pr=$1
	shift
	run_as -t "$_pt" "$_pr" "$PIPECTL" --socket "$SOCK" "$@"
}

# raw ROLE ARGS...: the raw client ($TMP/raw.py) as that user.
raw() {
	_xr=$1
	shift
	run_as "$_xr" env PYTHONPATH="$top_srcdir/tests/e2e" \
	    "$UPY" "$TMP/raw.py" "$SOCK" "$@"
}

if ! run_as alice test -x "$PIPECTL" ||
    ! run_as alice test -r "$top_srcdir/tests/e2e/rawclient.py"; then
	echo "SKIP: $ALICE cannot run $PIPECTL or read the tests (a directory others cannot reach)"
	finished=1
	exit 77
fi
# A python3 the users can run (root's may live under /root).
UPY=$(command -v python3)
if ! run_as alice "$UPY" -c '' 2>/dev/null; then
	UPY=/usr/bin/python3
	if ! run_as alice "$UPY" -c '' 2>/dev/null; then
		echo "SKIP: no python3 that $ALICE can run"
		finished=1
		exit 77
	fi
fi

# The socket's group depends on whether group pipelined exists, which the
# check below makes for a moment on a machine without one: both hold a
# lock, so that two runs side by side see the group as it stays.
LOCKED=
if command -v flock >/dev/null 2>&1 && [ -d /run/lock ]; then
	exec 8>/run/lock/pipelined-e2e-group.lock
	flock 8
	LOCKED=1
fi

SOCK="$TMP/run/pipelined.sock"
LANG=C.UTF-8
export LANG
daemon_start --admin-group "$ADMINS" --max-parallel 64 8>&-

# --- the socket --------------------------------------------------------------
if getent group pipelined >/dev/null 2>&1; then
	SOCK_GROUP=pipelined
else
	SOCK_GROUP=root
fi
check "root's socket: 0660, owner root, group $SOCK_GROUP (docs/security.md)" \
	is "660 root $SOCK_GROUP" "$(stat -c '%a %U %G' "$SOCK")"
check "  in a directory root owns, 0755" \
	is "755 root" "$(stat -c '%a %U' "$TMP/run")"
if [ "$SOCK_GROUP" = root ]; then
	expect_exit 3 "  a user outside its group cannot connect (exit 3)" \
		upc bob status
fi
chgrp "$USERS" "$SOCK"

# The socket's group when the daemon makes it and group pipelined exists
# (made for the check when the machine has none).
sock_group_check() {
	_made=
	if ! getent group pipelined >/dev/null 2>&1; then
		groupadd pipelined || return 1
		_made=1
	fi
	"$PIPELINED" --foreground --config "$CONF" --socket "$TMP/run2/s.sock" \
	    --state-dir "$TMP/state2" >"$TMP/d2.log" 2>&1 8>&- &
	_p2=$!
	wait_for test -S "$TMP/run2/s.sock" || :
	_got=$(stat -c '%a %U %G' "$TMP/run2/s.sock" 2>&1)
	kill -TERM "$_p2"
	wait "$_p2" || :
	[ -z "$_made" ] || groupdel pipelined
	is "660 root pipelined" "$_got"
}
if [ -n "$LOCKED" ]; then
	check "with a group pipelined, root's socket is 0660 root:pipelined" \
		sock_group_check
	flock -u 8
	exec 8>&-
else
	skip "root's socket in group pipelined" "no flock or /run/lock"
fi

# --- executions of each user -------------------------------------------------
cat >"$TMP/p/long.yaml" <<'EOF'
name: long
tasks:
  main: {run: 'echo "out-$USER"; exec sleep 300'}
EOF
cat >"$TMP/p/quick.yaml" <<'EOF'
name: quick
tasks:
  main: {run: 'echo "quick-$USER"'}
EOF
cat >"$TMP/p/fail.yaml" <<'EOF'
name: fail
tasks:
  main: {run: 'echo "ran-as-$USER"; exit 1'}
EOF
chmod 644 "$TMP"/p/*.yaml

# usub ROLE ARGS...: `pipectl run ARGS` as that user; the id goes to $ID.
usub() {
	_sr=$1
	shift
	ID=0
	if upc "$_sr" run "$@" >"$TMP/usub.out" 2>"$TMP/usub.err"; then
		ID=$(cat "$TMP/usub.out")
	else
		fail "run $* as $_sr: exit $?"
		sed 's/^/  stderr: /' "$TMP/usub.err" >&2
	fi
}

# main_is ID STATUS: the task "main" of execution ID has that status.
main_is() {
	[ "$(sx "$1" 'inst("main")["status"]' 2>/dev/null)" = "$2" ]
}

# log_has ID TEXT: the output log of ID/main holds TEXT (read as root).
log_has() {
	pctl logs "$1/main" 2>/dev/null | grep -q "$2"
}

usub alice "$TMP/p/long.yaml"
A_RUN=$ID
usub alice "$TMP/p/long.yaml"
A_RUN2=$ID
usub alice "$TMP/p/quick.yaml"
A_DONE=$ID
usub alice "$TMP/p/fail.yaml"
A_FAIL=$ID
usub bob "$TMP/p/long.yaml"
B_RUN=$ID
usub bob "$TMP/p/long.yaml"
B_RUN2=$ID
usub bob "$TMP/p/quick.yaml"
B_DONE=$ID
# An id past any the daemon gives in this test.
MISSING=987654
for _id in "$A_RUN" "$A_RUN2" "$B_RUN" "$B_RUN2"; do
	wait_for main_is "$_id" RUNNING || fail "execution $_id is not RUNNING"
	wait_for log_has "$_id" "out-" || fail "execution $_id wrote nothing"
done
expect_exit 0 "alice's quick execution ends DONE" upc alice wait "$A_DONE"
expect_exit 0 "bob's quick execution ends DONE" upc bob wait "$B_DONE"
expect_exit 1 "alice's failing execution ends otherwise (exit 1)" \
	upc alice wait "$A_FAIL"
check "each execution is owned by its submitter" \
	is "$(id -u "$ALICE") $(id -u "$ALICE") $(id -u "$BOB") $ALICE $BOB" \
	"$(sx "$A_RUN" 'd["owner"]["uid"]') $(sx "$A_DONE" 'd["owner"]["uid"]') $(sx "$B_RUN" 'd["owner"]["uid"]') $(sx "$A_RUN2" 'd["owner"]["user"]') $(sx "$B_DONE" 'd["owner"]["user"]')"

# --- the matrix: another's execution answers as a missing one -----------------
# denied ROLE ID "ARGS": pipectl ARGS (@ standing for an id) as that user on
# ID, another's execution, exits 4 with exactly the message it gives for
# the missing id $MISSING (each id written ID), and prints nothing.
denied() {
	_dr=$1
	_did=$2
	_dargs=$3
	checks=$((checks + 1))
	set +e
	# shellcheck disable=SC2046
	upc -t 20 "$_dr" $(echo "$_dargs" | sed "s|@|$_did|g") \
	    >"$TMP/d1.out" 2>"$TMP/d1.err"
	_r1=$?
	# shellcheck disable=SC2046
	upc -t 20 "$_dr" $(echo "$_dargs" | sed "s|@|$MISSING|g") \
	    >"$TMP/d2.out" 2>"$TMP/d2.err"
	_r2=$?
	set -e
	_m1=$(sed "s/\b$_did\b/ID/g" "$TMP/d1.err")
	_m2=$(sed "s/\b$MISSING\b/ID/g" "$TMP/d2.err")
	if [ "$_r1" -eq 4 ] && [ "$_r2" -eq 4 ] && [ -n "$_m1" ] &&
	    [ "$_m1" = "$_m2" ] && [ ! -s "$TMP/d1.out" ]; then
		echo "ok: $_dr: $_dargs on another's execution: exit 4, as for a missing one ($_m1)"
	else
		fail "$_dr: $_dargs on $_did: exit $_r1 '$_m1'; on missing $MISSING: exit $_r2 '$_m2'"
		sed 's/^/  stdout: /' "$TMP/d1.out" >&2
	fi
}

# ok_as ROLE DESCRIPTION ARGS...: pipectl ARGS as that user exits 0
# (its output in $TMP/out and $TMP/err).
ok_as() {
	_or=$1
	_od=$2
	shift 2
	expect_exit 0 "$_or: $_od" upc "$_or" "$@"
}

# follows ROLE DESCRIPTION ARGS...: pipectl ARGS as that user is still
# streaming after 3 s (timeout's 124): a follow that was let in.
follows() {
	_fr=$1
	_fd=$2
	shift 2
	expect_exit 124 "$_fr: $_fd" upc -t 3 "$_fr" "$@"
}

# ids_of FILE: the ids of a `list --json`, sorted, on one line.
ids_of() {
	python3 -c 'import json,sys; print(" ".join(str(e["id"]) for e in sorted(json.load(open(sys.argv[1])), key=lambda e: e["id"])))' "$1"
}

# has_ids "LIST" ID...: every ID is in LIST;  no_ids "LIST" ID...: none is.
has_ids() {
	_l=" $1 "
	shift
	for _i in "$@"; do
		case $_l in
		*" $_i "*) ;;
		*) echo "  $_i missing from:$_l" >&2; return 1 ;;
		esac
	done
}
no_ids() {
	_l=" $1 "
	shift
	for _i in "$@"; do
		case $_l in
		*" $_i "*) echo "  $_i present in:$_l" >&2; return 1 ;;
		esac
	done
}

for _me in alice bob; do
	if [ "$_me" = alice ]; then
		O_RUN=$A_RUN O_DONE=$A_DONE X_RUN=$B_RUN X_RUN2=$B_RUN2 X_DONE=$B_DONE
	else
		O_RUN=$B_RUN O_DONE=$B_DONE X_RUN=$A_RUN X_RUN2=$A_RUN2 X_DONE=$A_DONE
	fi
	_name=$(who "$_me")
	# Its own.
	ok_as "$_me" "show its own execution" show "$O_RUN"
	ok_as "$_me" "logs of its own task" logs "$O_RUN/main"
	check "  the task's output, written as $_me" is "out-$_name" "$(cat "$TMP/out")"
	ok_as "$_me" "logs --follow of its own ended task" logs --follow "$O_DONE/main"
	check "  its output" is "quick-$_name" "$(cat "$TMP/out")"
	follows "$_me" "logs --follow of its own running task follows it" \
		logs --follow "$O_RUN/main"
	follows "$_me" "watch of its own running execution follows it" \
		watch "$O_RUN"
	ok_as "$_me" "watch its own ended execution (ends at once)" watch "$O_DONE"
	ok_as "$_me" "wait for its own ended execution" wait "$O_DONE"
	ok_as "$_me" "graph of its own execution" graph "$O_RUN"
	check "  is a digraph" grep -q digraph "$TMP/out"
	ok_as "$_me" "list" list --json
	cp "$TMP/out" "$TMP/list.$_me"
	check "  holds its own executions" \
		has_ids "$(ids_of "$TMP/list.$_me")" "$O_RUN" "$O_DONE"
	check "  and no other user's" \
		no_ids "$(ids_of "$TMP/list.$_me")" "$X_RUN" "$X_RUN2" "$X_DONE"
	check "  (every execution it lists is its own)" is "[$(id -u "$_name")]" \
		"$(python3 -c 'import json,sys; print(sorted({e["owner"]["uid"] for e in json.load(open(sys.argv[1]))}))' "$TMP/list.$_me")"
	# Another's: exactly as missing.
	denied "$_me" "$X_RUN" "show @"
	denied "$_me" "$X_RUN" "show @ --json"
	denied "$_me" "$X_RUN" "logs @/main"
	denied "$_me" "$X_RUN" "logs @/0/main/0"
	denied "$_me" "$X_RUN" "logs --follow @/main"
	denied "$_me" "$X_DONE" "logs --follow @/main"
	denied "$_me" "$X_RUN" "watch @"
	denied "$_me" "$X_RUN" "watch @ --json"
	denied "$_me" "$X_RUN" "wait @"
	denied "$_me" "$X_RUN" "graph @"
	denied "$_me" "$X_DONE" "retry @"
	denied "$_me" "$X_RUN" "cancel @/0/main/0"
	denied "$_me" "$X_RUN" "cancel @/main"
	denied "$_me" "$X_RUN" "cancel @/0"
	denied "$_me" "$X_RUN" "cancel @"
	check "$_me's cancels changed nothing: the other's execution still RUNNING" \
		is "RUNNING RUNNING" \
		"$(sx "$X_RUN" 'd["status"]') $(sx "$X_RUN" 'inst("main")["status"]')"
	check "  and its task still alive" \
		proc_alive "$(sx "$X_RUN" 'inst("main")["pid"]')"
	# Administration.
	expect_exit 4 "$_me: gc is refused (exit 4)" upc "$_me" gc
	check "  as for administrators" \
		grep -q "gc is for administrators" "$TMP/err"
	expect_exit 4 "$_me: reload is refused (exit 4)" upc "$_me" reload
	check "  as for administrators" \
		grep -q "reload is for administrators" "$TMP/err"
	ok_as "$_me" "status" status
done

# Retries of one's own: a new execution, owned by whoever asked.
for _me in alice bob; do
	if [ "$_me" = alice ]; then _d=$A_DONE; else _d=$B_DONE; fi
	ok_as "$_me" "retry its own ended execution" retry "$_d"
	_r=$(cat "$TMP/out")
	check "  the retry is its own" \
		is "$(id -u "$(who "$_me")")" "$(sx "$_r" 'd["owner"]["uid"]')"
	wait_exec "$_r" || :
done

# Administrators: carol (in admin_group by her supplementary groups) and
# root see and control everything.
for _me in carol root; do
	ok_as "$_me" "list" list --json
	check "  holds alice's and bob's executions" has_ids "$(ids_of "$TMP/out")" \
		"$A_RUN" "$A_RUN2" "$A_DONE" "$B_RUN" "$B_RUN2" "$B_DONE"
	for _x in "$A_RUN" "$B_RUN"; do
		ok_as "$_me" "show another's execution ($_x)" show "$_x" --json
		ok_as "$_me" "logs of another's task ($_x)" logs "$_x/main"
		check "  its output" like "out-pl-*" "$(cat "$TMP/out")"
		ok_as "$_me" "graph of another's execution ($_x)" graph "$_x"
		follows "$_me" "logs --follow of another's running task ($_x)" \
			logs --follow "$_x/main"
		follows "$_me" "watch another's running execution ($_x)" \
			watch "$_x"
	done
	for _x in "$A_DONE" "$B_DONE"; do
		ok_as "$_me" "logs --follow of another's ended task ($_x)" \
			logs --follow "$_x/main"
		ok_as "$_me" "watch another's ended execution ($_x)" watch "$_x"
		ok_as "$_me" "wait for another's ended execution ($_x)" wait "$_x"
	done
	# A retry stays the owner's and runs as the owner: an administrator
	# never runs a user's commands with their own rights.
	ok_as "$_me" "retry alice's failed execution ($A_FAIL)" retry "$A_FAIL"
	_r=$(cat "$TMP/out")
	wait_exec "$_r" || :
	check "  the retry is alice's, not $_me's" \
		is "$(id -u "$ALICE") $ALICE" \
		"$(sx "$_r" 'd["owner"]["uid"]') $(sx "$_r" 'd["owner"]["user"]')"
	check "  its task ran again, as alice" \
		is "ran-as-$ALICE" "$(pctl logs "$_r/main")"
	check "  and who asked for it is recorded" \
		grep -q "execution $_r: retry of $A_FAIL by $(who "$_me")" "$DAEMON_LOG"
	ok_as "$_me" "gc" gc
	ok_as "$_me" "reload" reload
	ok_as "$_me" "status" status
done

# Cancels let in, at each level, each recorded with who cancelled.
ok_as alice "cancel its own task" cancel "$A_RUN/main"
ok_as bob "cancel its own pipeline result" cancel "$B_RUN/0"
ok_as carol "cancel alice's execution" cancel "$A_RUN2"
ok_as root "cancel bob's task result" cancel "$B_RUN2/0/main/0"
for _x in "$A_RUN" "$B_RUN" "$A_RUN2" "$B_RUN2"; do
	wait_exec "$_x" 30 || :
done
# cancelled_by ID: "STATUS:message" of its task result.
cancelled_by() {
	sx "$1" 'inst("main")["status"] + ":" + inst("main")["message"]'
}
check "each cancel took, recorded with who cancelled" \
	is "CANCELLED:cancelled by user $ALICE CANCELLED:cancelled by user $BOB CANCELLED:cancelled by user $CAROL CANCELLED:cancelled by user root" \
	"$(cancelled_by "$A_RUN") $(cancelled_by "$B_RUN") $(cancelled_by "$A_RUN2") $(cancelled_by "$B_RUN2")"

# --- watch of everything: each sees its own, administrators all ---------------
WATCHERS=
for _me in alice bob carol root; do
	upc -t 120 "$_me" watch --json >"$TMP/watch.$_me" 2>"$TMP/watch.$_me.err" &
	WATCHERS="$WATCHERS $!"
done
check "the four watchers are connected" wait_for connections_at_least 5
usub alice "$TMP/p/quick.yaml"
W_A=$ID
usub bob "$TMP/p/quick.yaml"
W_B=$ID
wait_exec "$W_A" || :
wait_exec "$W_B" || :
# saw ROLE ID: the watcher of ROLE got an event of execution ID.
saw() {
	grep -q "\"execution\": *$2[,}]" "$TMP/watch.$1"
}
for _me in alice carol root; do wait_for saw "$_me" "$W_A" || :; done
for _me in bob carol root; do wait_for saw "$_me" "$W_B" || :; done
sleep 0.5
# shellcheck disable=SC2086
kill $WATCHERS 2>/dev/null || :
for _w in $WATCHERS; do wait "$_w" 2>/dev/null || :; done
check "watch: alice sees her execution's events, none of bob's" \
	sh -c 'grep -q "\"execution\": *$2[,}]" "$1" &&
	    ! grep -q "\"execution\": *$3[,}]" "$1"' sh "$TMP/watch.alice" "$W_A" "$W_B"
check "watch: bob sees his, none of alice's" \
	sh -c 'grep -q "\"execution\": *$2[,}]" "$1" &&
	    ! grep -q "\"execution\": *$3[,}]" "$1"' sh "$TMP/watch.bob" "$W_B" "$W_A"
check "watch: carol and root see both" \
	sh -c 'for f in "$1" "$2"; do
		grep -q "\"execution\": *$3[,}]" "$f" &&
		    grep -q "\"execution\": *$4[,}]" "$f" || exit 1
	    done' sh "$TMP/watch.carol" "$TMP/watch.root" "$W_A" "$W_B"

# --- what a task runs as --------------------------------------------------------
cat >"$TMP/p/ident.yaml" <<'EOF'
name: ident
tasks:
  ids: {run: 'echo "$(id -u) $(id -g) $(id -G | tr " " "\n" | sort -n | tr "\n" " ")"'}
  status: {argv: [grep, -E, '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapAmb):', /proc/self/status]}
  fds: {argv: [ls, -l, /proc/self/fd]}
  env: {argv: [env]}
  cwd: {run: 'pwd -P'}
EOF
chmod 644 "$TMP/p/ident.yaml"

# ilog ROLE ID TASK: the output of that task, read by its owner.
ilog() {
	upc "$1" logs "$2/$3" 2>/dev/null
}

# pw ROLE FIELD: a field of the user's passwd entry.
pw() {
	getent passwd "$(who "$1")" | cut -d: -f"$2"
}

# sorted_groups ROLE: the user's groups from the user database, sorted.
sorted_groups() {
	id -G "$(who "$1")" | tr ' ' '\n' | sort -n | tr '\n' ' '
}

for _me in alice bob carol; do
	_n=$(who "$_me")
	usub "$_me" "$TMP/p/ident.yaml"
	_i=$ID
	wait_exec "$_i" || :
	check "$_me's identity task: DONE" is DONE "$(sx "$_i" 'd["status"]')"
	check "  uid, gid and groups are $_me's, as the user database has them" \
		is "$(id -u "$_n") $(id -g "$_n") $(sorted_groups "$_me")" \
		"$(ilog "$_me" "$_i" ids)"
	ilog "$_me" "$_i" status >"$TMP/status.$_me"
	_u=$(id -u "$_n")
	_g=$(id -g "$_n")
	check "  real, effective, saved and fs uid and gid all $_me's" \
		is "Uid:	$_u	$_u	$_u	$_u Gid:	$_g	$_g	$_g	$_g" \
		"$(grep -E '^(Uid|Gid):' "$TMP/status.$_me" | tr '\n' ' ' | sed 's/ $//')"
	check "  supplementary groups exactly $_me's" \
		is "$(sorted_groups "$_me")" \
		"$(sed -n 's/^Groups:[[:space:]]*//p' "$TMP/status.$_me" | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ')"
	check "  no capability: inheritable, permitted, effective, ambient all 0" \
		is "0000000000000000 0000000000000000 0000000000000000 0000000000000000" \
		"$(sed -n 's/^Cap\(Inh\|Prm\|Eff\|Amb\):[[:space:]]*//p' "$TMP/status.$_me" | tr '\n' ' ' | sed 's/ $//')"
	ilog "$_me" "$_i" fds >"$TMP/fds.$_me"
	check "  only fds 0, 1, 2 (and 3, ls's own /proc/PID/fd)" \
		is "0 1 2 3" \
		"$(awk 'NF >= 9 { print $9 }' "$TMP/fds.$_me" | tr '\n' ' ' | sed 's/ $//')"
	check "  fd 3 is that directory" \
		grep -q ' 3 -> /proc/[0-9]*/fd$' "$TMP/fds.$_me"
	ilog "$_me" "$_i" env >"$TMP/env.$_me"
	check "  exactly the task environment (no iterator, no input)" \
		is "HOME LANG LOGNAME PATH PIPELINE_ATTEMPT PIPELINE_EXECUTION_ID PIPELINE_INPUT PIPELINE_NAME PIPELINE_RESULT_INDEX PIPELINE_TASK SHELL TASK_INDEX USER" \
		"$(sed -n 's/=.*//p' "$TMP/env.$_me" | sort | tr '\n' ' ' | sed 's/ $//')"
	check "  HOME, USER, LOGNAME, SHELL of $_me; LANG from the daemon" \
		is "$(pw "$_me" 6) $_n $_n $(pw "$_me" 7) C.UTF-8" \
		"$(for v in HOME USER LOGNAME SHELL LANG; do sed -n "s/^$v=//p" "$TMP/env.$_me"; done | tr '\n' ' ' | sed 's/ $//')"
	check "  the working directory: where $_me ran pipectl" \
		is "$TMP/w-$_n" "$(ilog "$_me" "$_i" cwd)"
done
usub root "$TMP/p/ident.yaml"
_i=$ID
wait_exec "$_i" || :
check "root's identity task runs as root, with root's groups" \
	is "0 0 $(sorted_groups root)" "$(ilog root "$_i" ids)"
check "  in root's directory, with root's HOME" \
	is "$TMP/w-root $(pw root 6)" \
	"$(ilog root "$_i" cwd) $(ilog root "$_i" env | sed -n 's/^HOME=//p')"

# A definition cannot ask to run as someone else: user: is for registered
# pipelines only.
printf 'name: asroot\nuser: root\ntasks:\n  t: {run: id}\n' >"$TMP/p/asroot.yaml"
chmod 644 "$TMP/p/asroot.yaml"
_before=$(pctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["executions"])')
expect_exit 2 "alice submitting a pipeline with user: root is refused (exit 2)" \
	upc alice run "$TMP/p/asroot.yaml"
check "  saying user is for registered pipelines" \
	grep -q "user is only allowed in registered pipelines" "$TMP/err"
check "  and nothing was created" is "$_before" \
	"$(pctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["executions"])')"

# A uid with no user entry (a user deleted meanwhile) runs nothing.
GHOST=
for _c in 64999 64998 64997 64996 64995; do
	if ! getent passwd "$_c" >/dev/null 2>&1; then
		GHOST=$_c
		break
	fi
done
if [ -n "$GHOST" ]; then
	mkdir "$TMP/w-ghost"
	chmod 777 "$TMP/w-ghost"
	(cd "$TMP/w-ghost" && setpriv --reuid="$GHOST" --regid="$GHOST" \
	    --groups="$(getent group "$USERS" | cut -d: -f3)" \
	    "$PIPECTL" --socket "$SOCK" run --wait "$TMP/p/ident.yaml" \
	    >"$TMP/ghost.out" 2>"$TMP/ghost.err") || :
	_g=$(pctl list --json | python3 -c 'import json,sys; print(([e["id"] for e in json.load(sys.stdin) if e["owner"]["uid"] == int(sys.argv[1])] or [0])[0])' "$GHOST")
	check "uid $GHOST without a user entry: its submission is a CONFIG_ERROR" \
		is "CONFIG_ERROR" "$(sx "$_g" 'd["status"]')"
	check "  saying so" like "*uid $GHOST has no user entry*" \
		"$(sx "$_g" 'd["message"]')"
	check "  and none of its tasks ran (no pid)" \
		is "[]" "$(sx "$_g" '[i["pid"] for t in d["results"][0]["tasks"] for i in t["instances"] if i["pid"] is not None] if d["results"] else []')"
else
	skip "a uid without a user entry" "no free uid found"
fi

# --- forged identity fields ----------------------------------------------------
# The raw client: cases that exit 0 when they hold (rawclient.py frames).
cat >"$TMP/raw.py" <<'EOF'
import os, pwd, re, sys, time
from rawclient import call, connect, error_is

SOCK, CASE, ARGS = sys.argv[1], sys.argv[2], sys.argv[3:]
ME = os.getuid()

def forge(uid=0, user="root"):
    """Fields a client might hope the daemon takes its identity from."""
    return {"uid": uid, "gid": uid, "user": user, "admin": True,
            "owner": {"uid": uid, "user": user}, "peer": {"uid": uid}}

FORGED = forge() if len(ARGS) < 3 else forge(int(ARGS[1]), ARGS[2])

def conn():
    return connect(SOCK, 30)

def same_as_missing(op, field, other, missing, **kw):
    """op on another's id fails exactly as on a missing one."""
    s = conn()
    a = call(s, v=1, id=7, op=op, **{field: other(ARGS[0])}, **kw, **FORGED)
    b = call(s, v=1, id=7, op=op, **{field: other(missing)}, **kw, **FORGED)
    if not (error_is(a, "not_found", 7) and error_is(b, "not_found", 7)):
        return False
    ma = re.sub(r"\b%s\b" % ARGS[0], "ID", a["error"]["message"])
    mb = re.sub(r"\b%s\b" % missing, "ID", b["error"]["message"])
    if ma != mb or set(a) != set(b):
        print("  %r != %r" % (a, b), file=sys.stderr)
        return False
    return True

def case():
    if CASE == "hello":
        r = call(conn(), v=1, id=1, op="hello", client="forged", **FORGED)
        ok = (r.get("ok") is True and r.get("uid") == ME and
              r.get("user") == pwd.getpwuid(ME).pw_name and
              r.get("admin") is (ARGS[0] == "admin"))
        if not ok:
            print("  reply: %r" % r, file=sys.stderr)
        return ok
    if CASE == "submit":
        pipeline = {"name": "forged", "tasks": {"t": {"argv": ["id", "-u"]}}}
        r = call(conn(), v=1, id=2, op="submit", pipeline=pipeline,
                 cwd=os.getcwd(), **FORGED)
        if r.get("ok") is not True:
            print("  reply: %r" % r, file=sys.stderr)
            return False
        print(r["execution"])
        return True
    if CASE == "submit-user":
        pipeline = {"name": "asroot", "user": "root",
                    "tasks": {"t": {"argv": ["id", "-u"]}}}
        r = call(conn(), v=1, id=2, op="submit", pipeline=pipeline,
                 cwd=os.getcwd())
        return error_is(r, "invalid", 2) and any(
            "user is only allowed in registered pipelines" in e
            for e in r.get("errors", []))
    if CASE == "list":
        s = conn()
        plain = call(s, v=1, id=3, op="list", limit=1000)
        forged = call(s, v=1, id=4, op="list", limit=1000, **FORGED)
        ids = lambda r: sorted(e["id"] for e in r["executions"])
        owners = {e["owner"]["uid"] for e in forged["executions"]}
        ok = ids(plain) == ids(forged) and owners <= {ME} and \
            not set(ids(forged)) & {int(a) for a in ARGS}
        if not ok:
            print("  plain %r forged %r" % (ids(plain), ids(forged)),
                  file=sys.stderr)
        return ok
    if CASE == "cancel":
        return same_as_missing("cancel", "address", str, "987654")
    if CASE == "cancel-task":
        return same_as_missing("cancel", "address", lambda i: "%s/0/main" % i,
                               "987654")
    if CASE == "show":
        return same_as_missing("show", "execution", int, 987654)
    if CASE == "logs":
        return same_as_missing("logs", "address", lambda i: "%s/main" % i,
                               "987654", follow=True)
    if CASE == "watch":
        return same_as_missing("watch", "execution", int, 987654)
    if CASE == "retry":
        return same_as_missing("retry", "execution", int, 987654)
    raise SystemExit("unknown case " + CASE)

sys.exit(0 if case() else 1)
EOF
chmod 644 "$TMP/raw.py"

usub bob "$TMP/p/long.yaml"
B_LIVE=$ID
wait_for main_is "$B_LIVE" RUNNING || fail "execution $B_LIVE is not RUNNING"
check "hello with forged uid, user and admin: the peer's own identity (alice)" \
	raw alice hello user
check "  (carol: her own, an administrator)" raw carol hello admin
check "  (bob: his own)" raw bob hello user
check "  (root: root, an administrator)" raw root hello admin
expect_exit 0 "submit with forged uid, gid, user, owner, admin: accepted" \
	raw alice submit
F_ID=$(cat "$TMP/out")
wait_exec "$F_ID" || :
check "  the execution is alice's" \
	is "$(id -u "$ALICE") $ALICE" "$(sx "$F_ID" 'd["owner"]["uid"]') $(sx "$F_ID" 'd["owner"]["user"]')"
check "  and its task ran as alice" is "$(id -u "$ALICE")" "$(pctl logs "$F_ID/t")"
check "a raw submit naming user: root is invalid in the daemon too" \
	raw alice submit-user
check "list with forged fields: the same as without, only alice's" \
	raw alice list "$B_LIVE" "$B_DONE" "$B_RUN"
for _c in cancel cancel-task show logs watch retry; do
	check "$_c of bob's with forged fields (uid, user: bob's): as missing" \
		raw alice "$_c" "$B_LIVE" "$(id -u "$BOB")" "$BOB"
done
check "  bob's execution still RUNNING after all that" \
	is "RUNNING RUNNING" "$(sx "$B_LIVE" 'd["status"]') $(sx "$B_LIVE" 'inst("main")["status"]')"
pctl cancel "$B_LIVE" >/dev/null
wait_exec "$B_LIVE" 30 || :

# --- limits ------------------------------------------------------------------------
# Every limit a client controls, exceeded once, as alice: a clear error,
# nothing created (status counts and journal records unchanged), another
# client served right after; bob polls `pipectl status` all along.  The
# section runs at least twice: the first pass warms the daemon up, and
# its memory must then settle, a pass growing it by less than 1 MiB
# (below).  (Frames refused by the decoder
# are protocol_robustness.sh's subject; here each is sent once more for
# the memory figure and the counts.)
# Under ASan, freed memory waits in a quarantine (256 MiB by default) that
# would show as growth: the daemon runs without one here.
MAX_FRAME=4194304
daemon_stop
_asan=${ASAN_OPTIONS-}
ASAN_OPTIONS="${_asan:+$_asan:}quarantine_size_mb=0"
export ASAN_OPTIONS
daemon_start --admin-group "$ADMINS" --max-parallel 64 \
	--max-frame "$MAX_FRAME" --max-connections 8 --max-pending-per-user 3
ASAN_OPTIONS=$_asan
chgrp "$USERS" "$SOCK"

cat >"$TMP/lim.py" <<'EOF'
import os, struct, sys, time
from rawclient import pack, frame, req, reply, call, connect, closed

SOCK, MAX_FRAME, WHAT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
CWD = os.getcwd()
failures = 0

def say(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures += 1

def conn(timeout=120):
    return connect(SOCK, timeout)

def counts():
    r = call(conn(), v=1, id=1, op="status")
    return (r["executions"], r["unfinished"],
            r["journal"]["records_written"])

def served():
    r = call(conn(10), v=1, id=9, op="hello")
    return isinstance(r, dict) and r.get("ok") is True

def over(name, data, code, text, rid=5, closes=False):
    before = counts()
    s = conn()
    t0 = time.time()
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = reply(s)
    dt = time.time() - t0
    msg = ""
    if isinstance(r, dict) and isinstance(r.get("error"), dict):
        msg = "; ".join([r["error"].get("message", "")] +
                        list(r.get("errors", []))[:2])
    ok = (isinstance(r, dict) and r.get("ok") is False and
          r.get("id") == rid and r["error"].get("code") == code and
          text in msg)
    if closes:
        ok = ok and closed(s)
    s.close()
    say(ok, "%s: %s, %.110s (%.1fs)" % (name, code, msg if ok else repr(r), dt))
    after = counts()
    say(after == before, "  nothing created (executions, unfinished, "
        "journal records: %s)" % (after,))
    say(served(), "  another client is served")

def sub(pipeline, **kw):
    kw.setdefault("cwd", CWD)
    return req(v=1, id=5, op="submit", pipeline=pipeline, **kw)

def p(tasks, **top):
    d = {"name": "lim"}
    d.update(top)
    d["tasks"] = tasks
    return d

RUN = {"t": {"run": "true"}}

def nest(n):
    v = 1
    for _ in range(n):
        v = [v]
    return v

def frames():
    over("a frame over max_frame", struct.pack(">I", MAX_FRAME + 1),
         "too_large", str(MAX_FRAME + 1), rid=0, closes=True)
    over("a frame announcing 4294967295 bytes", b"\xff\xff\xff\xff",
         "too_large", "4294967295", rid=0, closes=True)
    over("msgpack nested 33 deep",
         frame(pack({"v": 1, "id": 5, "op": "hello", "x": nest(32)})),
         "bad_frame", "nesting deeper than 32", rid=0)
    over("more than 1048576 values in a message",
         frame(pack({"v": 1, "id": 5, "op": "hello", "x": [None] * (1 << 20)})),
         "bad_frame", "more than 1048576 values", rid=0)
    over("an array count past the frame's end (dd ff ff ff ff)",
         frame(b"\xdd\xff\xff\xff\xff"), "bad_frame", "4294967295", rid=0)

def pipelines():
    over("100001 tasks", sub(p({"t%d" % i: {"run": "true"} for i in range(100001)})),
         "invalid", "100001 tasks, over the limit of 100000")
    over("an iterator of 100001 items",
         sub(p({"t": {"run": "true", "iterate": list(range(100001))}})),
         "invalid", "iterate has 100001 items, over the limit of 100000")
    over("1000 items of 201 task executions and results",
         sub(p({"t%d" % i: {"run": "true"} for i in range(100)} |
               {"u": {"run": "true", "iterate_command": "true"}},
               iterate=list(range(1000)))),
         "invalid", "201000 task executions and task results, over the limit of 200000")
    over("argv of 4097 elements",
         sub(p({"t": {"argv": ["true"] + ["a"] * 4096}})),
         "invalid", "argv has 4097 elements, over the limit of 4096")
    over("argv of 70000 bytes",
         sub(p({"t": {"argv": ["true", "a" * 70000]}})),
         "invalid", "over the limit of 65536")
    over("1025 env entries",
         sub(p(RUN, env={"E%d" % i: "v" for i in range(1025)})),
         "invalid", "env has 1025 entries, over the limit of 1024")
    over("an env value of 32769 bytes",
         sub(p({"t": {"run": "true", "env": {"E": "v" * 32769}}})),
         "invalid", "32769 bytes long, over the limit of 32768")
    over("a run line of 65537 bytes", sub(p({"t": {"run": "x" * 65537}})),
         "invalid", "run is 65537 bytes long, over the limit of 65536")
    over("a name of 65 characters", sub(p(RUN) | {"name": "n" * 65}),
         "invalid", "is not valid")
    over("a description of 16385 bytes", sub(p(RUN, description="d" * 16385)),
         "invalid", "description is 16385 bytes long, over the limit of 16384")
    over("a pipeline cwd of 4097 bytes", sub(p(RUN, cwd="/" + "c" * 4096)),
         "invalid", "cwd is 4097 bytes long, over the limit of 4096")
    over("an item of 1048577 bytes",
         sub(p({"t": {"run": "true", "iterate": ["i" * 1048577]}})),
         "invalid", "a value is 1048577 bytes long, over the limit of 1048576")
    over("a definition nested 21 deep",
         sub(p({"t": {"run": "true", "iterate": [nest(17)]}})),
         "invalid", "nesting deeper than 20 levels")
    over("a request cwd of 4097 bytes", sub(p(RUN), cwd="/" + "c" * 4096),
         "bad_request", "cwd must be an absolute path of at most 4096 bytes")
    over("a source of 4097 bytes", sub(p(RUN), source="s" * 4097),
         "bad_request", "source is longer than 4096 bytes")
    over("an input of 1025 keys",
         sub(p(RUN), input={"k%d" % i: 1 for i in range(1025)}),
         "bad_request", "input has 1025 keys, over the limit of 1024")
    over("an input value of 1048577 bytes",
         sub(p(RUN), input={"k": "v" * 1048577}),
         "bad_request", "1048577 bytes, over the limit of 1048576")
    over("an input nested 21 deep", sub(p(RUN), input={"k": nest(20)}),
         "bad_request", "nested deeper than 20 levels")
    # Within the element limit, but costly to check if done naively.
    over("350000 parents naming two tasks over and over",
         sub(p({"a": {"run": "true"}, "b": {"run": "true"},
                "c": {"run": "true", "parents": ["a", "b"] * 175000}})),
         "invalid", "parent 'a' is listed twice")

def pending():
    long = p({"t": {"run": "exec sleep 300"}})
    ids = []
    for i in range(3):
        r = call(conn(), v=1, id=6, op="submit", pipeline=long, cwd=CWD)
        say(r.get("ok") is True, "unfinished execution %d of 3 accepted" % (i + 1))
        ids.append(r.get("execution"))
    # Their tasks start meanwhile: wait until nothing more is written.
    last, still = counts(), 0
    while still < 3:
        time.sleep(0.2)
        now = counts()
        still = still + 1 if now == last else 0
        last = now
    over("a 4th unfinished execution (max_pending_per_user 3)", sub(long),
         "limit", "max_pending_per_user")
    print("ids", *ids)

def cancel(ids):
    for i in ids:
        r = call(conn(), v=1, id=8, op="cancel", address=i)
        say(r.get("ok") is True, "cancel %s" % i)

def connections(limit):
    # Wait for the connections of earlier requests to be gone.
    for _ in range(100):
        n0 = call(conn(), v=1, id=1, op="status")["connections"]
        if n0 == 1:
            break
        time.sleep(0.05)
    held, refused = [], None
    for i in range(limit + 2):
        s = conn(10)
        try:
            s.sendall(req(v=1, id=3, op="hello"))
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = reply(s)
        if isinstance(r, dict) and r.get("ok") is True:
            held.append(s)
            continue
        refused = (r, closed(s))
        break
    say(len(held) == limit - (n0 - 1),
        "%d connections held (max_connections %d, %d open before)" %
        (len(held), limit, n0 - 1))
    r = refused[0] if refused else None
    say(refused is not None and isinstance(r, dict) and r.get("id") == 0 and
        r.get("ok") is False and r["error"].get("code") == "limit" and
        "too many connections" in r["error"].get("message", "") and refused[1],
        "one more: limit, 'too many connections', closed (%r)" % (r,))
    say(all(call(s, v=1, id=4, op="hello").get("ok") for s in held),
        "  the connections held are still served")
    held.pop().close()
    ok = False
    for _ in range(50):
        try:
            ok = served()
        except (BrokenPipeError, ConnectionResetError, TypeError, AttributeError):
            ok = False
        if ok:
            break
        time.sleep(0.1)
    say(ok, "  one closed: a new client is served")
    for s in held:
        s.close()

if WHAT == "frames":
    frames()
elif WHAT == "pipelines":
    pipelines()
elif WHAT == "pending":
    pending()
elif WHAT == "cancel":
    cancel(sys.argv[4:])
elif WHAT == "connections":
    connections(int(sys.argv[4]))
sys.exit(1 if failures else 0)
EOF
chmod 644 "$TMP/lim.py"

# lim ROLE WHAT ARGS...: run lim.py as that user and count its lines as
# checks (its "ids" line goes to $TMP/lim.ids).
lim() {
	_lr=$1
	shift
	set +e
	run_as -t 300 "$_lr" env PYTHONPATH="$top_srcdir/tests/e2e" \
	    "$UPY" "$TMP/lim.py" "$SOCK" "$MAX_FRAME" "$@" \
	    >"$TMP/lim.out" 2>"$TMP/lim.err"
	_lrc=$?
	set -e
	while IFS= read -r _line; do
		case $_line in
		"ok: "*) checks=$((checks + 1)); echo "$_line" ;;
		"FAIL: "*) fail "${_line#FAIL: }" ;;
		"ids "*) echo "${_line#ids }" >"$TMP/lim.ids" ;;
		esac
	done <"$TMP/lim.out"
	if [ "$_lrc" -ne 0 ] && ! grep -q '^FAIL' "$TMP/lim.out"; then
		fail "lim.py $* exited $_lrc"
		sed 's/^/  stderr: /' "$TMP/lim.err" >&2
	fi
}

rss_kib() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON_PID/status"
}

(
	n=0
	while [ ! -e "$TMP/stop-poller" ]; do
		if [ -e "$TMP/pause-poller" ]; then
			touch "$TMP/poller.paused"
			sleep 0.05
			continue
		fi
		rm -f "$TMP/poller.paused"
		if upc bob status >/dev/null 2>&1; then
			n=$((n + 1))
		else
			echo "status failed after $n" >>"$TMP/poller.failed"
		fi
		sleep 0.05
	done
	echo "$n" >"$TMP/poller.count"
) &
POLLER=$!

limits_pass() {
	lim alice frames
	lim alice pipelines
	lim alice pending
	_ids=$(cat "$TMP/lim.ids" 2>/dev/null || :)
	usub bob "$TMP/p/quick.yaml"
	check "  bob submits meanwhile (the limit is per user)" \
		is DONE "$(wait_exec "$ID"; sx "$ID" 'd["status"]')"
	# shellcheck disable=SC2086
	lim alice cancel $_ids
	for _x in $_ids; do wait_exec "$_x" 30 || :; done
	# The connection limit would refuse the poller too: it waits.
	rm -f "$TMP/poller.paused"
	touch "$TMP/pause-poller"
	wait_for test -e "$TMP/poller.paused" || :
	lim alice connections 8
	rm -f "$TMP/pause-poller"
}

# A pass's peak (frames queued while a busy machine slows the daemon)
# may raise the RSS once, and neither allocator gives all of it back; a
# leak raises it at every pass.  So the passes go on until one grows the
# RSS by less than 1 MiB, four at the most.
limits_pass
RSS1=$(rss_kib)
_pass=2
while :; do
	limits_pass
	RSS2=$(rss_kib)
	echo "daemon VmRSS before pass $_pass: $RSS1 kB; after it: $RSS2 kB"
	[ $((RSS2 - RSS1)) -lt 1024 ] || [ $_pass -ge 4 ] && break
	RSS1=$RSS2
	_pass=$((_pass + 1))
done
check "the daemon's memory grows by less than 1 MiB over a pass ($RSS1 -> $RSS2 kB, pass $_pass)" \
	test $((RSS2 - RSS1)) -lt 1024
touch "$TMP/stop-poller"
wait "$POLLER" || :
check "bob's pipectl status never failed meanwhile" test ! -e "$TMP/poller.failed"
check "  (and it did poll: at least 10 answers)" \
	test "$(num "$TMP/poller.count")" -ge 10

# --- file modes --------------------------------------------------------------------
check "the state directory: root's, 0700" \
	is "700 root" "$(stat -c '%a %U' "$STATE")"
check "  the journal's directory 0700, its files 0600" \
	is "700 600" "$(stat -c %a "$STATE/journal") $(find "$STATE/journal" -type f -exec stat -c %a {} + | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "  the output logs' directories 0700, the logs 0600" \
	is "700 600" "$(find "$STATE/logs" -type d -exec stat -c %a {} + | sort -u | tr '\n' ' ')$(find "$STATE/logs" -type f -exec stat -c %a {} + | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "  nothing under it is open to group or others" \
	is "" "$(find "$STATE" -perm /077)"
check "  and everything belongs to root" is "" "$(find "$STATE" ! -user root)"
_log=$(find "$STATE/logs/$A_DONE" -type f | head -n 1)
expect_exit 1 "alice cannot read her own output log's file ($(basename "$_log"))" \
	run_as alice cat "$_log"
ok_as alice "  she reads it through the daemon" logs "$A_DONE/main"
check "  (its text)" is "quick-$ALICE" "$(cat "$TMP/out")"

# A daemon of alice's own: socket 0600 in a 0700 directory, state 0700,
# bob kept out by the socket's mode, her tasks run as her.
UDIR="$TMP/w-$ALICE/ud"
USOCK="$UDIR/run/pipelined.sock"
(cd "$TMP/w-$ALICE" && exec setpriv --reuid="$ALICE" --regid="$(id -g "$ALICE")" \
    --init-groups env HOME="$TMP/w-$ALICE" "$PIPELINED" --foreground \
    --config "$CONF" --socket "$USOCK" --state-dir "$UDIR/state" \
    >"$TMP/udaemon.log" 2>&1) &
USER_DAEMON=$!
if wait_for run_as alice "$PIPECTL" --socket "$USOCK" status >/dev/null 2>&1; then
	check "alice's daemon: socket 0600, hers" \
		is "600 $ALICE" "$(stat -c '%a %U' "$USOCK")"
	check "  in a directory of hers, 0700" \
		is "700 $ALICE" "$(stat -c '%a %U' "$UDIR/run")"
	check "  state 0700, nothing in it open to group or others" \
		is "700 " "$(stat -c %a "$UDIR/state") $(find "$UDIR/state" -perm /077)"
	expect_exit 3 "  bob cannot connect to it (exit 3)" \
		run_as bob "$PIPECTL" --socket "$USOCK" status
	expect_exit 0 "  alice runs a pipeline there" \
		run_as alice "$PIPECTL" --socket "$USOCK" run --wait "$TMP/p/ident.yaml"
	_u=$(run_as alice "$PIPECTL" --socket "$USOCK" list --json |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
	check "  its tasks run as alice, with her groups" \
		is "$(id -u "$ALICE") $(id -g "$ALICE") $(sorted_groups alice)" \
		"$(run_as alice "$PIPECTL" --socket "$USOCK" logs "$_u/ids")"
	check "  and its state, logs included, belongs to alice alone" \
		is "" "$(find "$UDIR/state" ! -user "$ALICE" -o -perm /077)"
else
	fail "alice's daemon did not come up"
	sed 's/^/  daemon: /' "$TMP/udaemon.log" >&2
fi
kill -TERM "$USER_DAEMON" 2>/dev/null || :
wait "$USER_DAEMON" || fail "alice's daemon: exit $? on SIGTERM"
USER_DAEMON=

finish
