#!/usr/bin/env python3
# Where a simulated power loss may leave damage (crashsim.sh): only where
# writes were not durable yet.  Arguments: the crash report of
# pipelined-crashsim (lines "file PATH durable D unsynced_from U ..."),
# the output of `pipelined --verify` on the journal it left, and a file of
# damage lines already seen (older crashes' damage that stays, such as a
# hole a lost write left before later records; updated here).  Every new
# damage line must lie in a file that had writes not yet synced, at or
# after the first of them.  Prints "torn N hole M" (new torn tails, and
# new damage that is not a torn tail but lies in that unsynced tail: a
# later write reached the disk, an earlier one did not); exit 1 when any
# damage lies elsewhere.
import os
import re
import sys

report, verify, known_path = sys.argv[1:4]
unsynced = {}
if os.path.exists(report):
    for line in open(report):
        w = line.split()
        if w and w[0] == "file":
            f = dict(zip(w[2::2], w[3::2]))
            unsynced[os.path.basename(w[1])] = int(f["unsynced_from"])
known = set()
if os.path.exists(known_path):
    known = set(l.rstrip("\n") for l in open(known_path))
pat = re.compile(r"^damage: (\S+) bytes (\d+)-(\d+) after record \d+: (.*)$")
torn = hole = 0
bad = []
new = []
for line in open(verify):
    line = line.rstrip("\n")
    if not line.startswith("damage: ") or line in known:
        continue
    new.append(line)
    m = pat.match(line)
    if m is None:
        bad.append("unreadable: " + line)
        continue
    name, start = m.group(1), int(m.group(2))
    if name not in unsynced:
        bad.append("in a file with nothing unsynced: " + line)
    elif start < unsynced[name]:
        bad.append("before the first unsynced byte (%d): %s" %
                   (unsynced[name], line))
    elif line.endswith("(torn tail)"):
        torn += 1
    else:
        hole += 1
with open(known_path, "a") as k:
    for line in new:
        if not line.endswith("(torn tail)"):
            k.write(line + "\n")
print("torn %d hole %d" % (torn, hole))
for b in bad[:10]:
    print("  damage " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
