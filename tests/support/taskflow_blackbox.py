"""What the black-box tests share: `taskflow serve` started on a free port
(SQLite in a data dir, or a PostgreSQL database), tokens minted by
`taskflow token`, a JSON client of the API, and waiting on a condition with
a deadline."""

import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request

SECRET = "taskflow blackbox secret"
DEADLINE = 30.0


def until(what, condition, deadline=DEADLINE):
    started = time.monotonic()
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() - started > deadline:
            raise AssertionError(f"gave up after {deadline:.0f}s waiting for {what}")
        time.sleep(0.02)


class Server:
    """`taskflow serve` with `extra` arguments, in `data_dir`."""

    def __init__(self, args, data_dir, extra=()):
        self.args, self.data_dir, self.extra, self.process = args, data_dir, list(extra), None

    def start(self):
        command = [self.args.bin, "serve", "--listen", "127.0.0.1:0", *self.extra]
        if self.args.database_url:
            command += ["--database-url", self.args.database_url]
        env = dict(os.environ, TASKFLOW_DATA_DIR=self.data_dir, TASKFLOW_JWT_SECRET=SECRET,
                   RUST_LOG=os.environ.get("RUST_LOG", "warn"))
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        for line in self.process.stdout:
            match = re.match(r"Taskflow listening on (\S+)", line)
            if match:
                self.base = match.group(1)
                threading.Thread(target=self.process.stdout.read, daemon=True).start()
                return self
        raise AssertionError("taskflow serve exited before listening")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def token(args, data_dir, user):
    env = dict(os.environ, TASKFLOW_JWT_SECRET=SECRET)
    return subprocess.check_output(
        [args.bin, "token", "--user", user, "--data-dir", data_dir], env=env, text=True).strip()


class Api:
    """The JSON API as one user."""

    def __init__(self, server, bearer):
        self.server, self.bearer = server, bearer

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.server.base + path, data=data, method=method,
            headers={"authorization": f"Bearer {self.bearer}", "content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return json.loads(text) if text else None

    def changes(self):
        """Every change the user may see, from the changes feed."""
        out, since = [], 0
        while True:
            page = self.call("GET", f"/api/changes?since={since}&limit=500")
            out += page["changes"]
            since = page["next"]
            if not page["has_more"]:
                return out
