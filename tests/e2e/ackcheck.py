#!/usr/bin/env python3
# The acknowledgement checker of the crash tests (journal_crash.sh,
# crashsim.sh): run in the directory holding acks.snap (one line per
# acknowledged submission: "ID CLIENT N", read before the lists were taken)
# and seen.json (its state: the status each id had last time), on lists
# (`pipectl list --json`) taken in this order.  It checks: every
# acknowledged id listed, with the input it was submitted with; no id
# acknowledged twice; no id twice in a list; no status going back
# (PENDING -> RUNNING -> final, a final one never changing); with --final,
# nothing unfinished.  Exit 1 when anything is wrong (said on stderr).
import json, os, sys
args = sys.argv[1:]
final = args[0] == "--final"
if final:
    args = args[1:]
seen = json.load(open("seen.json")) if os.path.exists("seen.json") else {}
rank = {"PENDING": 0, "RUNNING": 1}
acks = [l.split() for l in open("acks.snap") if l.strip()]
acked = [a[0] for a in acks]
bad = []
if len(acked) != len(set(acked)):
    bad.append("ids acknowledged twice: %s" % sorted(set(a for a in acked if acked.count(a) > 1), key=int)[:10])
for name in args:
    lst = json.load(open(name))
    ids = [e["id"] for e in lst]
    if len(ids) != len(set(ids)):
        bad.append("%s: an id listed twice" % name)
    by = dict((str(e["id"]), e) for e in lst)
    missing = []
    for i, c, n in acks:
        e = by.get(i)
        if e is None:
            missing.append(i)
        elif e["input"] != {"client": c, "n": n}:
            bad.append("%s: execution %s: input %s, acknowledged for client %s n %s" % (name, i, e["input"], c, n))
    if missing:
        bad.append("%s: %d acknowledged ids missing: %s" % (name, len(missing), missing[:10]))
    for i, e in by.items():
        s = e["status"]
        old = seen.get(i)
        if old is not None:
            ro, rn = rank.get(old, 2), rank.get(s, 2)
            if rn < ro or (ro == 2 and s != old):
                bad.append("%s: execution %s went from %s back to %s" % (name, i, old, s))
        seen[i] = s
        if final and s in rank:
            bad.append("%s: execution %s still %s" % (name, i, s))
json.dump(seen, open("seen.json", "w"))
for b in bad[:20]:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
