"""A raw client of pipelined's socket for the end-to-end tests.

Frames are written and read by hand (docs/protocol.md), with a small
msgpack encoder and decoder of our own, so that the tests need no module
and can send what pipectl never would: forged fields, oversize values,
malformed bodies.
"""
import socket
import struct
import sys


def pack(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if 0 <= v < 2**32:
            return b"\xce" + struct.pack(">I", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xa0 | len(b)]) + b
        return b"\xdb" + struct.pack(">I", len(b)) + b
    if isinstance(v, bytes):
        return b"\xc6" + struct.pack(">I", len(v)) + v
    if isinstance(v, list):
        return b"\xdd" + struct.pack(">I", len(v)) + b"".join(map(pack, v))
    if isinstance(v, dict):
        return b"\xdf" + struct.pack(">I", len(v)) + b"".join(
            pack(k) + pack(x) for k, x in v.items())
    raise TypeError(v)


def unpack(b, i=0):
    t = b[i]
    if t <= 0x7f: return t, i + 1
    if t >= 0xe0: return t - 256, i + 1
    if 0x80 <= t <= 0x8f: return unmap(b, i + 1, t & 15)
    if 0x90 <= t <= 0x9f: return unarr(b, i + 1, t & 15)
    if 0xa0 <= t <= 0xbf:
        n = t & 31
        return b[i + 1:i + 1 + n].decode(), i + 1 + n
    if t == 0xc0: return None, i + 1
    if t == 0xc2: return False, i + 1
    if t == 0xc3: return True, i + 1
    fmt = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q", 0xd0: ">b",
           0xd1: ">h", 0xd2: ">i", 0xd3: ">q", 0xcb: ">d", 0xca: ">f"}
    if t in fmt:
        n = struct.calcsize(fmt[t])
        return struct.unpack(fmt[t], b[i + 1:i + 1 + n])[0], i + 1 + n
    lens = {0xd9: (">B", "s"), 0xda: (">H", "s"), 0xdb: (">I", "s"),
            0xc4: (">B", "b"), 0xc5: (">H", "b"), 0xc6: (">I", "b"),
            0xdc: (">H", "a"), 0xdd: (">I", "a"), 0xde: (">H", "m"),
            0xdf: (">I", "m")}
    if t in lens:
        f, kind = lens[t]
        w = struct.calcsize(f)
        n = struct.unpack(f, b[i + 1:i + 1 + w])[0]
        j = i + 1 + w
        if kind == "s": return b[j:j + n].decode(), j + n
        if kind == "b": return bytes(b[j:j + n]), j + n
        if kind == "a": return unarr(b, j, n)
        return unmap(b, j, n)
    raise ValueError("cannot decode byte 0x%02x at %d" % (t, i))


def unarr(b, i, n):
    out = []
    for _ in range(n):
        v, i = unpack(b, i)
        out.append(v)
    return out, i


def unmap(b, i, n):
    out = {}
    for _ in range(n):
        k, i = unpack(b, i)
        v, i = unpack(b, i)
        out[k] = v
    return out, i


def connect(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # A blocking connect waits for room in the listen backlog, as pipectl's
    # does; with a timeout set first it would fail at once (EAGAIN).
    s.connect(path)
    s.settimeout(timeout)
    return s


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b


def reply(s):
    """The next reply as a dict, or None at end of stream."""
    try:
        h = recv_exact(s, 4)
    except ConnectionResetError:
        return None
    if h is None:
        return None
    n = struct.unpack(">I", h)[0]
    body = recv_exact(s, n)
    v, end = unpack(body)
    assert end == len(body), "trailing bytes in a reply"
    return v


def frame(body):
    return struct.pack(">I", len(body)) + body


def req(**kw):
    return frame(pack(dict(kw)))


def call(s, **kw):
    """Send one request and return its (first) reply."""
    s.sendall(req(**kw))
    return reply(s)


def closed(s):
    """The daemon closed the connection (EOF, or reset)."""
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def error_is(r, code, rid=0, text=None):
    """r is an error reply with that code (and id, and text in its message)."""
    ok = (isinstance(r, dict) and r.get("ok") is False and r.get("id") == rid
          and isinstance(r.get("error"), dict) and r["error"].get("code") == code
          and isinstance(r["error"].get("message"), str)
          and (text is None or text in r["error"]["message"]))
    if not ok:
        print("  reply: %.300r" % (r,), file=sys.stderr)
    return ok
