#!/usr/bin/env python3
"""Clients for the load test (tests/e2e/load.sh, bench/bench_clients.sh).

Speaks the protocol of docs/protocol.md directly, with the small msgpack
encoder and decoder of rawclient.py beside it (no module needed).

  loadgen.py probe SOCKET OUT [--interval S] [--count N] [--until FILE]
      one connection sending "status" requests one after another, each
      round trip's time in microseconds written to OUT, a line each: N of
      them, or until FILE exists.

  loadgen.py steady SOCKET SECONDS
      one client sending status requests for SECONDS, each write ending
      half-way through the next frame (so that its input never empties):
      every frame finishes well within the read timeout, so it must never
      be closed.  Exit 0 when every reply came.

  loadgen.py burst SOCKET N
      N non-blocking connects at once; prints how many were refused
      (EAGAIN: the listen queue was full).

  loadgen.py run SOCKET [--clients N] [--per N] [--idle N] [--slow N]
                 [--acks FILE] [--probe OUT] [--slow-window S]
      N clients, each submitting --per tiny executions one after another
      with "watch", reading the stream to its end (every acknowledgement
      logged to --acks as "ID CLIENT N"); meanwhile --idle connections
      that said hello and then wait, and --slow clients sending a frame
      one byte a second (each reconnecting once closed, for --slow-window
      seconds at least).  With --probe, a probe process measures status
      round trips while the clients work.  Prints a JSON summary.
"""
import argparse
import asyncio
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import time

from rawclient import pack, unpack  # beside this file


def frame(msg):
    body = pack(msg)
    return struct.pack(">I", len(body)) + body


def decode(body):
    v, end = unpack(body)
    if end != len(body) or not isinstance(v, dict):
        raise ValueError("not one map")
    return v


def now():
    return time.monotonic()


def pct(v, p):
    """The p-th percentile (nearest rank) of v, or None when empty."""
    if not v:
        return None
    s = sorted(v)
    return s[min(len(s) - 1, max(0, int(len(s) * p / 100.0 + 0.5) - 1))]


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- probe --------------------------------------------------------------------

def probe(args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args.socket)
    f = s.makefile("rb")
    lat = []
    i = 0
    with open(args.out, "w") as out:
        while True:
            if args.until and os.path.exists(args.until):
                break
            if args.count and i >= args.count:
                break
            i += 1
            t0 = now()
            s.sendall(frame({"v": 1, "id": i, "op": "status"}))
            n = struct.unpack(">I", f.read(4))[0]
            r = decode(f.read(n))
            t1 = now()
            if r.get("id") != i or r.get("ok") is not True:
                print("probe: bad reply %r" % r, file=sys.stderr)
                return 1
            out.write("%d\n" % int((t1 - t0) * 1e6))
            lat.append(t1 - t0)
            time.sleep(args.interval)
    return 0


# --- steady and burst ------------------------------------------------------------

def steady(args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args.socket)
    s.settimeout(30)
    f = s.makefile("rb")
    one = len(frame({"v": 1, "id": 1, "op": "status"}))
    sent = got = 0
    pending = b""
    t0 = now()
    try:
        while True:
            # The rest of the frame begun last time, and half the next.
            if now() - t0 < args.seconds:
                sent += 1
                pending += frame({"v": 1, "id": sent % 100, "op": "status"})
                n = len(pending) - one // 2
            else:
                n = len(pending)
            s.sendall(pending[:n])
            pending = pending[n:]
            while got < sent - (1 if pending else 0):
                h = f.read(4)
                if len(h) < 4:
                    raise EOFError("closed")
                r = decode(f.read(struct.unpack(">I", h)[0]))
                if r.get("ok") is not True:
                    raise ValueError("reply %r" % r)
                got += 1
            if not pending:
                break
            time.sleep(0.5)
    except (OSError, EOFError, ValueError) as e:
        print("steady: after %.1f s and %d replies: %s" % (now() - t0, got, e),
              file=sys.stderr)
        return 1
    print("steady: %d replies in %.1f s" % (got, now() - t0))
    return 0


def burst(args):
    socks, refused = [], 0
    for _ in range(args.n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(args.socket)
            socks.append(s)
        except BlockingIOError:
            refused += 1
            s.close()
    print(refused)
    sys.stdout.flush()
    # Keep them until told: stdin closes.
    sys.stdin.read()
    return 0


# --- run -----------------------------------------------------------------------

PIPELINE = {"name": "load", "tasks": {"t": {"argv": ["/bin/true"]}}}


class Run:
    def __init__(self, args):
        self.args = args
        self.errors = []
        self.ack_lat = []
        self.acks = 0
        self.finals = {}
        self.slow_closed = []     # seconds from the first byte to the close
        self.slow_unclosed = 0
        self.idle = []
        self.stop_slow = False
        self.acklog = open(args.acks, "a") if args.acks else None

    def error(self, what):
        if len(self.errors) < 1000:
            self.errors.append(what)

    async def read(self, reader):
        h = await reader.readexactly(4)
        n = struct.unpack(">I", h)[0]
        return decode(await reader.readexactly(n))

    async def client(self, k):
        try:
            reader, writer = await asyncio.open_unix_connection(
                self.args.socket, limit=1 << 20)
        except OSError as e:
            self.error("client %d: connect: %s" % (k, e))
            return
        try:
            for n in range(self.args.per):
                rid = n + 1
                t0 = now()
                writer.write(frame({"v": 1, "id": rid, "op": "submit",
                                    "pipeline": PIPELINE, "cwd": "/",
                                    "input": {"client": str(k), "n": str(n)},
                                    "watch": True}))
                r = await self.read(reader)
                if r.get("id") != rid or r.get("ok") is not True or \
                        not isinstance(r.get("execution"), int):
                    self.error("client %d: submit %d: %r" % (k, n, r))
                    return
                self.ack_lat.append(now() - t0)
                self.acks += 1
                if self.acklog:
                    self.acklog.write("%d %d %d\n" % (r["execution"], k, n))
                while True:
                    r = await self.read(reader)
                    if r.get("id") != rid or r.get("ok") is not True:
                        self.error("client %d: watch %d: %r" % (k, n, r))
                        return
                    if r.get("end"):
                        st = r.get("status")
                        self.finals[st] = self.finals.get(st, 0) + 1
                        break
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            self.error("client %d: %s: %s" % (k, type(e).__name__, e))
        finally:
            writer.close()

    async def idle_conn(self):
        try:
            reader, writer = await asyncio.open_unix_connection(
                self.args.socket)
            writer.write(frame({"v": 1, "id": 1, "op": "hello"}))
            r = await self.read(reader)
            if r.get("ok") is not True:
                self.error("idle: hello: %r" % r)
            self.idle.append((reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            self.error("idle: %s: %s" % (type(e).__name__, e))

    async def idle_check(self):
        """Every idle connection is still open and answers."""
        alive = 0
        for reader, writer in self.idle:
            try:
                writer.write(frame({"v": 1, "id": 2, "op": "hello"}))
                r = await asyncio.wait_for(self.read(reader), 30)
                if r.get("id") == 2 and r.get("ok") is True:
                    alive += 1
            except (OSError, asyncio.IncompleteReadError, ValueError,
                    asyncio.TimeoutError):
                pass
            writer.close()
        return alive

    async def slow_one(self, deadline):
        """Dribble a frame until closed; again until the deadline."""
        # A frame whose whole would take a minute at 1 byte a second.
        data = frame({"v": 1, "id": 1, "op": "status", "pad": "x" * 60})
        while not self.stop_slow:
            try:
                reader, writer = await asyncio.open_unix_connection(
                    self.args.socket)
            except OSError as e:
                self.error("slow: connect: %s" % e)
                return
            eof = asyncio.ensure_future(reader.read(1))
            t0 = None
            for i in range(len(data)):
                try:
                    writer.write(data[i:i + 1])
                    await writer.drain()
                except OSError:
                    break
                if t0 is None:
                    t0 = now()
                done, _ = await asyncio.wait([eof], timeout=1.0)
                if done:
                    break
            try:
                got = await asyncio.wait_for(eof, 30)
            except asyncio.TimeoutError:
                got = None
            except OSError:
                got = b""
            if got == b"":
                self.slow_closed.append(now() - t0)
            else:
                self.slow_unclosed += 1
                self.error("slow: not closed (read %r)" % got)
            writer.close()
            if now() >= deadline:
                return

    async def main(self):
        a = self.args
        for _ in range(0, a.idle, 100):
            await asyncio.gather(*[self.idle_conn() for _ in
                                   range(min(100, a.idle - len(self.idle)))])
        deadline = now() + a.slow_window
        slow = [asyncio.ensure_future(self.slow_one(deadline))
                for _ in range(a.slow)]
        if a.slow:
            await asyncio.sleep(0.5)    # the slow ones have begun
        probe = None
        if a.probe:
            stop = a.probe + ".stop"
            if os.path.exists(stop):
                os.unlink(stop)
            probe = subprocess.Popen([sys.executable, __file__, "probe",
                                      a.socket, a.probe, "--until", stop,
                                      "--interval", str(a.interval)])
        t0 = now()
        await asyncio.gather(*[self.client(k) for k in range(a.clients)])
        t1 = now()
        if probe:
            open(stop, "w").close()
            if probe.wait() != 0:
                self.error("the probe failed")
        self.stop_slow = True
        await asyncio.gather(*slow)
        alive = await self.idle_check()
        return {
            "clients": a.clients, "per_client": a.per, "acks": self.acks,
            "seconds": round(t1 - t0, 3),
            "ack_p50_ms": ms(pct(self.ack_lat, 50)),
            "ack_p99_ms": ms(pct(self.ack_lat, 99)),
            "ack_us": [int(x * 1e6) for x in self.ack_lat],
            "finals": self.finals,
            "idle": a.idle, "idle_alive": alive,
            "slow": a.slow, "slow_closed": len(self.slow_closed),
            "slow_unclosed": self.slow_unclosed,
            "slow_close_min_s": rnd(min(self.slow_closed, default=None)),
            "slow_close_max_s": rnd(max(self.slow_closed, default=None)),
            "errors": self.errors,
        }


def ms(x):
    return None if x is None else round(x * 1e3, 3)


def rnd(x):
    return None if x is None else round(x, 3)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("socket")
    p.add_argument("out")
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--until")
    st = sub.add_parser("steady")
    st.add_argument("socket")
    st.add_argument("seconds", type=float)
    b = sub.add_parser("burst")
    b.add_argument("socket")
    b.add_argument("n", type=int)
    r = sub.add_parser("run")
    r.add_argument("socket")
    r.add_argument("--clients", type=int, default=256)
    r.add_argument("--per", type=int, default=2)
    r.add_argument("--idle", type=int, default=0)
    r.add_argument("--slow", type=int, default=0)
    r.add_argument("--slow-window", type=float, default=0)
    r.add_argument("--acks")
    r.add_argument("--probe")
    r.add_argument("--interval", type=float, default=0.01)
    a = ap.parse_args()
    raise_nofile()
    if a.cmd != "run":
        return {"probe": probe, "steady": steady, "burst": burst}[a.cmd](a)
    out = asyncio.run(Run(a).main())
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
