"""pipelined's worker side for stock Celery workers over Redis.

pipelined's Celery runner sends each task result it runs as one Celery task,
``pipelined.run_task``, whose only argument is a spec::

    {"argv": ["/bin/sh", "-c", "make report"], "env": {"PATH": "..."},
     "cwd": "/srv/report", "timeout": 300.0, "kill_grace": 10.0,
     "output_cap": 16777216, "limits": {"memory": -1, ...},
     "address": "42/0/render/3", "attempt": 1}

The task runs argv (no shell unless argv says so) with exactly that
environment (plus PIPELINED_WORKER, the worker's name) in that directory, in
a session and process group of its own, stdin /dev/null, stdout and stderr
together, umask 022, default signal dispositions, and returns how it ended:
exit code or signal, exec failure (errno and step), timeout, times, CPU and
memory figures, and the tail of its output (base64).  The daemon keeps the
graph; this module only runs one command per task.

Start a worker from this folder (or with it on PYTHONPATH)::

    python3 -m celery -A pipelined_worker worker -n NAME@%h [-Q QUEUES]

The broker (and result backend) is PIPELINED_CELERY_BROKER, default
redis://127.0.0.1:6379/0; it must be the same Redis and database as the
daemon's.  Do not start workers with --without-heartbeat: the daemon tells a
lost worker by its missing heartbeats.
"""

import base64
import errno
import os
import resource
import select
import signal
import subprocess
import time

from celery import Celery

BROKER = os.environ.get("PIPELINED_CELERY_BROKER", "redis://127.0.0.1:6379/0")
# The most output a result carries back: the end of what the task printed.
OUTPUT_TAIL = 64 * 1024
# How long to wait for output still buffered once the task's group is gone.
DRAIN_S = 1.0
DEFAULT_KILL_GRACE = 10.0

app = Celery("pipelined_worker", broker=BROKER, backend=BROKER)
app.conf.update(
    # JSON only, both ways: the daemon speaks nothing else.
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_accept_content=["json"],
    enable_utc=True,
    timezone="UTC",
    # STARTED tells the daemon which worker runs a task (and that it runs).
    task_track_started=True,
    # One message reserved per process, acknowledged when the task starts:
    # a message is never run twice (no visibility-timeout redelivery).
    worker_prefetch_multiplier=1,
    task_acks_late=False,
    result_expires=86400,
    # A result that cannot be stored (Redis restarting) is retried, not
    # turned into a failure of a command that ran fine.
    result_backend_always_retry=True,
    result_backend_max_retries=60,
    result_backend_max_sleep_between_retries_ms=2000,
    task_default_queue="celery",
    broker_connection_retry=True,
    broker_connection_max_retries=None,
)

_RLIMITS = (
    ("memory", resource.RLIMIT_AS, 1),
    ("cpu_time_ms", resource.RLIMIT_CPU, 1000),
    ("open_files", resource.RLIMIT_NOFILE, 1),
    ("processes", resource.RLIMIT_NPROC, 1),
)


class SpecError(ValueError):
    """A spec this module cannot run: the daemon records the message."""


def _check_spec(spec):
    """Return the spec after checking every field this module uses."""
    if not isinstance(spec, dict):
        raise SpecError("the task spec is not an object")
    argv = spec.get("argv")
    if (not isinstance(argv, list) or not argv or
            not all(isinstance(a, str) for a in argv)):
        raise SpecError("argv must be a non-empty list of strings")
    env = spec.get("env", {})
    if not isinstance(env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and "=" not in k
            for k, v in env.items()):
        raise SpecError("env must map names to strings")
    for key in ("timeout", "kill_grace"):
        v = spec.get(key)
        if v is not None and (not isinstance(v, (int, float)) or v < 0):
            raise SpecError("%s must be a number of seconds" % key)
    return spec


def _group_alive(pgid):
    """Whether any process of the group is still alive (zombies are not)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid and \
                fields[0] not in (b"Z", b"X"):
            return True
    return False


def _killpg(pgid, sig):
    """Signal a whole process group; a group already gone is no error."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


class _Run:
    """One command: started, supervised, and reported."""

    def __init__(self, spec, worker):
        self.spec = spec
        self.worker = worker or ""
        self.proc = None
        self.tail = bytearray()
        self.total = 0
        grace = spec.get("kill_grace")
        self.grace = DEFAULT_KILL_GRACE if grace is None else float(grace)
        cap = spec.get("output_cap")
        self.cap = OUTPUT_TAIL if not isinstance(cap, int) or cap < 0 \
            else min(cap, OUTPUT_TAIL)

    def _child(self):
        """In the child, before exec: the process a task gets.

        As docs/security.md describes it ("What a task runs as").
        """
        os.umask(0o022)
        for sig in range(1, signal.NSIG):
            if sig in (signal.SIGKILL, signal.SIGSTOP):
                continue
            try:
                if signal.getsignal(sig) == signal.SIG_IGN:
                    signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        for key, res, scale in _RLIMITS:
            v = (self.spec.get("limits") or {}).get(key, -1)
            if isinstance(v, int) and v >= 0:
                v = -(-v // scale)
                resource.setrlimit(res, (v, v))

    def _on_term(self, signum, frame):
        """A revoke with terminate: the command's group goes first."""
        if self.proc is not None:
            pgid = self.proc.pid
            _killpg(pgid, signal.SIGTERM)
            end = time.monotonic() + self.grace
            while True:
                try:
                    os.waitpid(pgid, os.WNOHANG)
                except ChildProcessError:
                    pass
                if not _group_alive(pgid):
                    break
                if time.monotonic() >= end:
                    _killpg(pgid, signal.SIGKILL)
                    break
                time.sleep(0.02)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    def _watch(self, pgid):
        """Fork a watchdog that kills the group if this process dies.

        When the worker is killed (SIGKILL), its pool processes die with it
        and nothing here can run: the watchdog, blocked on a pipe only we
        hold, sees end of file and takes the command's group down, so that
        a lost worker leaves no command running behind it.
        """
        r, w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:
            try:
                # Only the end of the pipe ends it (a shutdown that signals
                # the whole worker lets the task finish first).
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP,
                            signal.SIGQUIT):
                    signal.signal(sig, signal.SIG_IGN)
                os.closerange(0, r)
                os.closerange(r + 1, 65536)
                while os.read(r, 1):
                    pass
                _killpg(pgid, signal.SIGKILL)
            finally:
                os._exit(0)
        os.close(r)
        return pid, w

    def _unwatch(self, watch):
        """The command is over: let its watchdog go."""
        pid, w = watch
        os.close(w)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass

    def _keep(self, data):
        """Keep the last self.cap bytes of the output."""
        self.total += len(data)
        self.tail += data
        if len(self.tail) > self.cap:
            del self.tail[:len(self.tail) - self.cap]

    def run(self):
        """Run the command to its end and return the result document."""
        spec = self.spec
        env = dict(spec.get("env") or {})
        env["PIPELINED_WORKER"] = self.worker
        cwd = spec.get("cwd") or "/"
        rfd, wfd = os.pipe2(os.O_CLOEXEC)
        old = signal.signal(signal.SIGTERM, self._on_term)
        # A revoke arriving while the command starts waits until we know
        # its group (and its watchdog runs): else the command would
        # outlive a handler that had nothing to kill yet.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        started = time.time()
        watch = None
        try:
            try:
                self.proc = subprocess.Popen(
                    spec["argv"], env=env, cwd=cwd,
                    stdin=subprocess.DEVNULL, stdout=wfd, stderr=wfd,
                    start_new_session=True, close_fds=True,
                    preexec_fn=self._child)
            except OSError as e:
                os.close(rfd)
                return self._result(started, exec_errno=e.errno or
                                    errno.EIO, exec_step="chdir"
                                    if e.filename == cwd else "exec")
            finally:
                os.close(wfd)
            watch = self._watch(self.proc.pid)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            return self._supervise(rfd, started)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            if watch is not None:
                self._unwatch(watch)
            signal.signal(signal.SIGTERM, old)

    def _supervise(self, rfd, started):
        """Wait for the leader (with the timeout), then for its output."""
        pid = self.proc.pid
        pidfd = os.pidfd_open(pid)
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.register(rfd, select.POLLIN)
        timeout = self.spec.get("timeout")
        now = time.monotonic()
        deadline = now + timeout if timeout else None
        kill_at = None
        timed_out = False
        eof = False
        try:
            while True:
                wake = min((t for t in (deadline, kill_at) if t is not None),
                           default=None)
                ms = -1 if wake is None else \
                    max(0, int((wake - time.monotonic()) * 1000) + 1)
                done = False
                for fd, _ in poller.poll(ms):
                    if fd == rfd:
                        eof = self._read(rfd, poller) or eof
                    else:
                        done = True
                if done:
                    break
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    timed_out = True
                    deadline = None
                    _killpg(pid, signal.SIGTERM)
                    kill_at = now + self.grace
                if kill_at is not None and now >= kill_at:
                    kill_at = None
                    _killpg(pid, signal.SIGKILL)
            _, status, ru = os.wait4(pid, 0)
            self.proc.returncode = os.waitstatus_to_exitcode(status)
            # The task is its group: what outlives the leader goes with it.
            _killpg(pid, signal.SIGKILL)
            end = time.monotonic() + DRAIN_S
            while not eof and time.monotonic() < end:
                ms = max(1, int((end - time.monotonic()) * 1000))
                if not poller.poll(ms):
                    break
                eof = self._read(rfd, poller)
        finally:
            os.close(pidfd)
            os.close(rfd)
        return self._result(
            started, status=status, ru=ru, timed_out=timed_out, pid=pid)

    def _read(self, rfd, poller):
        """Read what the task printed; True at end of file."""
        try:
            data = os.read(rfd, 65536)
        except BlockingIOError:
            return False
        if not data:
            poller.unregister(rfd)
            return True
        self._keep(data)
        return False

    def _result(self, started, status=None, ru=None, timed_out=False,
                pid=None, exec_errno=None, exec_step=None):
        """The result document the daemon reads (see docs/runners.md)."""
        ended = time.time()
        code = sig = None
        if status is not None:
            if os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
            else:
                code = os.WEXITSTATUS(status)
        return {
            "exit_code": code,
            "signal": sig,
            "timed_out": timed_out,
            "exec_errno": exec_errno,
            "exec_step": exec_step,
            "pid": pid,
            "worker": self.worker,
            "started": started,
            "ended": ended,
            "duration_s": round(ended - started, 6),
            "cpu_user_us": int(ru.ru_utime * 1e6) if ru else 0,
            "cpu_system_us": int(ru.ru_stime * 1e6) if ru else 0,
            "max_rss_kib": ru.ru_maxrss if ru else 0,
            "output": base64.b64encode(bytes(self.tail)).decode("ascii"),
            "output_dropped": self.total - len(self.tail),
        }


@app.task(name="pipelined.run_task", bind=True)
def run_task(self, spec):
    """Run one attempt of a pipelined task result; see the module doc."""
    return _Run(_check_spec(spec), self.request.hostname).run()
