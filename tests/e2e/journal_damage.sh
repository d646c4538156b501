#!/bin/sh
# The journal's lock and damage (docs/journal.md; docs/reliability.md T6,
# T14): a second daemon on the same state directory exits 100 and touches
# nothing; a torn tail reported by --verify and cut by the daemon, nothing
# else lost; pipelined --verify on a healthy journal and on one with 1 KiB
# zeroed in the middle of a segment (exit 1, the segment and byte range
# named); the daemon still starts on it, logs the damage, pipectl status
# shows it, every execution the damage did not touch is as it was, and the
# next gc sets the damaged segment aside.  A task result's end kept but its
# parents' lost (a power loss keeping a later write): the restart finishes
# them.
. "$(dirname "$0")/lib.sh"
need python3
set -e

# ids: the ids `pipectl list` shows, in order.
ids() {
	pctl list --limit 100000 --json | python3 -c \
	    'import json,sys; print(" ".join(sorted((str(e["id"]) for e in json.load(sys.stdin)), key=int)))'
}

# mtimes: size and mtime (ns) of the lock and of every journal file.
mtimes() {
	(cd "$STATE" && find lock journal -exec stat -c '%n %s %.9Y' {} + | sort)
}

newdir work
cat >p.yaml <<'EOF'
name: damage
ordering: {}
tasks:
  a: {run: 'echo "a of $PIPELINE_EXECUTION_ID"'}
  b: {run: 'echo "b of $PIPELINE_EXECUTION_ID"; exit $((PIPELINE_EXECUTION_ID % 2))'}
  c:
    run: 'echo "$TASK_OBJECT"'
    iterate: [x, y]
    parents: [a]
EOF
daemon_start --max-parallel 4
i=0
while [ $i -lt 24 ]; do
	submit p.yaml --input n=$i
	i=$((i + 1))
done
wait_exec "$ID" || :
for id in $(seq 1 "$ID"); do
	wait_exec "$id" || :
done
NEXT=$((ID + 1))

# --- a second daemon on the same state directory ---------------------------
mtimes >mtimes.before
set +e
"$PIPELINED" --foreground --config "$CONF" --socket "$SOCK" --state-dir "$STATE" \
    >second.out 2>second.err
rc=$?
set -e
check "second daemon on the same state dir: exit status 100" is 100 "$rc"
check "second daemon: it says who holds the lock" \
	grep -q "in use by another pipelined (pid $DAEMON_PID)" second.err
mtimes >mtimes.after
check "second daemon: the lock and journal files untouched (size, mtime)" \
	cmp mtimes.before mtimes.after
check "second daemon: the first one still answers on the socket" \
	sh -c '"$1" --socket "$2" status >/dev/null' sh "$PIPECTL" "$SOCK"
check "second daemon: and still has every execution" is "$(seq -s ' ' 1 $((NEXT - 1)))" "$(ids)"
for id in $(seq 1 $((NEXT - 1))); do
	pctl show "$id" --json >"before.$id.json"
done

# --- --verify on a healthy journal ---------------------------------------------
daemon_stop
expect_exit 0 "--verify on a healthy journal exits 0" "$PIPELINED" --verify --state-dir "$STATE"
check "--verify: prints 'no damage', a clean stop, the executions and the next id" \
	sh -c 'grep -qx "no damage" "$1" && grep -qx "last run stopped cleanly" "$1" &&
	       grep -qx "executions: $2 (0 unfinished), next id $(($2 + 1))" "$1"' \
	sh "$TMP/out" $((NEXT - 1))

# --- a torn tail (of a copy): the last record cut short ------------------------
# As a crash in the middle of the last write leaves it (here the
# CLEAN_SHUTDOWN record): --verify reports it; the daemon cuts it off,
# keeps the bytes, and loses nothing else.
cp -a "$STATE" "$TMP/torn"
TSEG=$(cd "$TMP/torn/journal" && ls seg-*.pjl | tail -n 1)
TOFF=$(python3 - "$TMP/torn/journal/$TSEG" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
off = last = 64
while off < len(data):
    if data[off + 16] != 8:	# PAD records are only filler
        last = off
    off += 28 + struct.unpack_from("<I", data, off + 4)[0]
print(last)
EOF
)
TSIZE=$((TOFF + 10))
truncate -s "$TSIZE" "$TMP/torn/journal/$TSEG"
expect_exit 1 "torn tail: --verify exits 1" "$PIPELINED" --verify --state-dir "$TMP/torn"
check "torn tail: --verify names it: segment, bytes $TOFF-$TSIZE, (torn tail); no clean stop" \
	sh -c 'grep -q "^damage: $2 bytes $3-$4 .*(torn tail)\$" "$1" &&
	       grep -qx "last run stopped without a clean shutdown" "$1"' sh "$TMP/out" "$TSEG" "$TOFF" "$TSIZE"
STATE="$TMP/torn"
LOGLINES=$(wc -l <"$DAEMON_LOG")
daemon_start --max-parallel 4
check "torn tail: the daemon starts and warns, naming the segment and offset" \
	sh -c 'tail -n +$(($2 + 1)) "$1" | grep -q "$3: torn tail at offset $4 "' \
	sh "$DAEMON_LOG" "$LOGLINES" "$TSEG" "$TOFF"
check "torn tail: the segment is cut at $TOFF, the 10 bytes kept in $TSEG.broken-*" \
	sh -c 'test "$(wc -c <"$1/$2")" -eq "$3" && test "$(cat "$1/$2".broken-* | wc -c)" -eq 10' \
	sh "$STATE/journal" "$TSEG" "$TOFF"
check "torn tail: pipectl status shows a torn tail cut, not DAMAGE" \
	sh -c '"$1" --socket "$2" status >"$3" && grep -q "torn tail cut at start: $4 bytes $5-$6" "$3" &&
	       ! grep -q "DAMAGE" "$3"' sh "$PIPECTL" "$SOCK" "$TMP/status.out" "$TSEG" "$TOFF" "$TSIZE"
same_as_before() {
	for _id in $(seq 1 $((NEXT - 1))); do
		pctl show "$_id" --json >"torn.$_id.json" || return 1
		cmp -s "before.$_id.json" "torn.$_id.json" || { echo "  execution $_id differs" >&2; return 1; }
	done
}
check "torn tail: every execution byte-identical to before" same_as_before
daemon_stop
expect_exit 0 "torn tail: --verify after the daemon repaired it: no damage" \
	"$PIPELINED" --verify --state-dir "$STATE"
STATE=$TMP/state

# --- 1 KiB zeroed in the middle of a segment (of a copy) -----------------------
cp -a "$STATE" "$TMP/damaged"
SEG=$(cd "$TMP/damaged/journal" && ls -S seg-*.pjl | head -n 1)
# OFF: the first record past the middle that is not padding (zeros over
# a PAD record's zeros would change nothing).
OFF=$(python3 - "$TMP/damaged/journal/$SEG" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
off = 64
while off < len(data):
    magic, ln, seq, typ = struct.unpack_from("<IIQB", data, off)
    if off >= len(data) // 2 and typ != 8:
        break
    off += 28 + ln
print(off)
EOF
)
# touched.txt: the executions with a record overlapping [OFF, OFF+1024) (the
# record format of docs/journal.md), "created" for those whose creation
# record it is: those are lost, the others only miss some changes.
python3 - "$TMP/damaged/journal/$SEG" "$OFF" $((OFF + 1024)) >touched.txt <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
lo, hi = int(sys.argv[2]), int(sys.argv[3])
def exec_id(p):
    k = p.find(b"\xa9execution")
    if k < 0:
        return None
    k += 10
    t = p[k]
    if t < 0x80:
        return t
    n = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8}[t]
    return int.from_bytes(p[k + 1:k + 1 + n], "big")
off = 64
while off < len(data):
    magic, ln, seq, typ = struct.unpack_from("<IIQB", data, off)
    assert magic == 0x4C504A52, off
    end = off + 28 + ln
    if end > lo and off < hi:
        e = exec_id(data[off + 28:end])
        if e is not None:
            print(e, "created" if typ == 1 else "changed")
    off = end
EOF
dd if=/dev/zero of="$TMP/damaged/journal/$SEG" bs=1 seek="$OFF" count=1024 \
    conv=notrunc status=none
echo "zeroed $SEG bytes $OFF-$((OFF + 1024)); records of: $(tr '\n' ' ' <touched.txt)"
check "damage: the zeroed bytes hit records of some execution" test -s touched.txt
expect_exit 1 "--verify on the damaged copy exits 1" "$PIPELINED" --verify --state-dir "$TMP/damaged"
cp "$TMP/out" verify.out
check "--verify: names the segment and a byte range covering the zeroed KiB" \
	python3 - verify.out "$SEG" "$OFF" <<'EOF'
import re, sys
seg, off = sys.argv[2], int(sys.argv[3])
rng = [(int(a), int(b)) for f, a, b in re.findall(r"^damage: (\S+) bytes (\d+)-(\d+) ", open(sys.argv[1]).read(), re.M) if f == seg]
if not any(a <= off and b >= off + 1024 for a, b in rng):
    sys.exit("  no damage line of %s covering %d-%d: %s" % (seg, off, off + 1024, rng))
EOF
check "--verify: says DAMAGED, and no torn tail" \
	sh -c 'grep -qx DAMAGED verify.out && ! grep -q "torn tail" verify.out'
check "--verify: the healthy original still verifies (the copy was damaged, not it)" \
	sh -c '"$1" --verify --state-dir "$2" >/dev/null' sh "$PIPELINED" "$STATE"

ORIG=$STATE
STATE="$TMP/damaged"
LOGLINES=$(wc -l <"$DAEMON_LOG")
daemon_start --max-parallel 4
check "damaged journal: the daemon starts and logs the damage (segment and bytes)" \
	sh -c 'tail -n +$(($2 + 1)) "$1" | grep -q "DAMAGE in $3, bytes [0-9]*-[0-9]*"' \
	sh "$DAEMON_LOG" "$LOGLINES" "$SEG"
pctl status >status.out
check "damaged journal: pipectl status shows the damage found at start" \
	grep -q "DAMAGE at start: $SEG bytes [0-9]*-[0-9]*" status.out
check "damaged journal: pipectl status --json lists it, not as a torn tail" \
	is "True False" "$(pctl status --json | python3 -c 'import json,sys
d = json.load(sys.stdin)["journal"]["damage_at_start"]
print(len(d) > 0, any(x["torn"] for x in d))')"
lost=$(awk '$2 == "created" { print $1 }' touched.txt | sort -nu | tr '\n' ' ' | sed 's/ $//')
want=
for id in $(seq 1 $((NEXT - 1))); do
	case " $lost " in
	*" $id "*) ;;
	*) want="$want $id" ;;
	esac
done
check "damaged journal: every execution is there but those whose creation record was zeroed (${lost:-none})" \
	is "${want# }" "$(ids)"
untouched() {
	_bad=0
	for _id in $(ids); do
		grep -q "^$_id " touched.txt && continue
		pctl show "$_id" --json >"after.$_id.json"
		if ! cmp -s "before.$_id.json" "after.$_id.json"; then
			echo "  execution $_id differs" >&2
			_bad=1
		fi
	done
	return $_bad
}
check "damaged journal: every execution the damage did not touch is byte-identical" untouched
submit p.yaml
check "damaged journal: a new submission gets the next id ($NEXT)" is "$NEXT" "$ID"
check "damaged journal: and runs" wait_for -t 30 sh -c \
	'"$1" --socket "$2" wait "$3" >/dev/null; [ $? -le 1 ]' sh "$PIPECTL" "$SOCK" "$ID"
expect_exit 0 "damaged journal: gc compacts" pctl gc --older-than 1ms
check "damaged journal: gc set the damaged segment aside into journal/damaged/" \
	sh -c 'test -f "$1/journal/damaged/$2" && test ! -e "$1/journal/$2"' sh "$STATE" "$SEG"
daemon_stop
expect_exit 0 "damaged journal: --verify after the gc: no damage" \
	"$PIPELINED" --verify --state-dir "$STATE"
daemon_start --max-parallel 4
submit p.yaml
check "damaged journal: ids go on after gc and a restart" is $((NEXT + 1)) "$ID"
wait_exec "$ID" || :
daemon_stop

# --- the newest execution's creation record damaged ----------------------------
# Its id was acknowledged once: it must not be given out again, though the
# execution itself is lost (its later records name it).
cp -a "$ORIG" "$TMP/newest"
STATE="$TMP/newest"
SEG=$(cd "$STATE/journal" && ls seg-*.pjl | tail -n 1)
LASTID=$(python3 - "$STATE/journal/$SEG" <<'EOF'
import struct, sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
off, last = 64, None
while off < len(data):
    magic, ln, seq, typ = struct.unpack_from("<IIQB", data, off)
    if typ == 1:
        last = (off, ln)
    off += 28 + ln
off, ln = last
p = bytes(data[off + 28:off + 28 + ln])
k = p.find(b"\xa9execution") + 10
t = p[k]
print(t if t < 0x80 else int.from_bytes(p[k + 1:k + 1 + {0xcc: 1, 0xcd: 2, 0xce: 4}[t]], "big"))
mid = off + 28 + ln // 2
data[mid:mid + 8] = bytes(8)
open(path, "wb").write(data)
EOF
)
check "newest creation damaged: it was the last execution ($((NEXT - 1)))" is $((NEXT - 1)) "$LASTID"
daemon_start --max-parallel 4
check "newest creation damaged: the daemon starts without it" is "$(seq -s ' ' 1 $((NEXT - 2)))" "$(ids)"
submit p.yaml
check "newest creation damaged: a new submission does not get its id again ($LASTID) but $NEXT" \
	is "$NEXT" "$ID"
wait_exec "$ID" || :

# --- a child's end kept, its parents' lost ---------------------------------
# A power loss can keep a later write and lose an earlier one, so replay
# may find a task result DONE and its task, pipeline result and execution
# still RUNNING: nothing would ever finish them (and a stop would wait for
# them).  The restart finishes every parent whose children all are.
printf 'name: roll\ntasks:\n  a: {run: "true"}\n' >roll.yaml
run_exec roll.yaml
ROLL=$ID
daemon_stop
python3 - "$STATE/journal" "$ROLL" <<'EOF'
import glob, struct, sys
jdir, eid = sys.argv[1], sys.argv[2]
def mp(s):
    return bytes([0xa0 + len(s)]) + s.encode()
# The DONE records of the task a (not its result), the pipeline result and
# the execution: zeroed, as a lost write leaves them.
want = [mp("address") + mp(a) for a in (eid + "/0/a", eid + "/0", eid)]
hit = 0
for path in sorted(glob.glob(jdir + "/seg-*.pjl")):
    data = bytearray(open(path, "rb").read())
    off = 64
    while off + 28 <= len(data):
        magic, ln, seq, typ = struct.unpack_from("<IIQB", data, off)
        p = bytes(data[off + 28:off + 28 + ln])
        if typ == 2 and mp("DONE") in p and any(w in p for w in want):
            data[off:off + 28 + ln] = bytes(28 + ln)
            hit += 1
        off += 28 + ln
    open(path, "wb").write(data)
sys.exit(0 if hit >= 3 else "only %d of the 3 records found" % hit)
EOF
daemon_start --max-parallel 4
check "parents' ends lost: after the restart the execution is DONE again" \
	is "DONE|DONE" "$(sx "$ROLL" 'd["status"] + "|" + task("a")["status"]')"
check "parents' ends lost: the daemon stops at once (nothing left running)" \
	sh -c 't0=$(date +%s); kill -TERM "$1"; while kill -0 "$1" 2>/dev/null; do sleep 0.1; done; [ $(($(date +%s) - t0)) -le 5 ]' \
	sh "$DAEMON_PID"
wait "$DAEMON_PID" || :
DAEMON_PID=

finish
