"""Black-box test of Taskflow's webhooks with the official Standard Webhooks
verifier (PyPI `standardwebhooks`): a receiver on loopback verifies every
request it gets, across a secret rotation; every change the changes feed
lists reaches the endpoint in order, each under one `webhook-id`; and after
`kill -9` of the sender with deliveries in flight, a restarted one sends
every delivery (at least once, under the same id).

It starts `taskflow serve` itself (SQLite in a fresh data dir, or the
PostgreSQL database given with --database-url) with
`--webhooks-allow-insecure`, the development mode that lets a webhook go to
this machine.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from taskflow_blackbox import Api, Server, token, until  # noqa: E402

SENDER = ["--webhooks-allow-insecure", "--webhooks-lease", "2s"]

class Receiver:
    """Keeps every request; answers 200 after `delay` seconds."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/taskflow"

    def requests(self):
        with self.lock:
            return list(self.received)


def events(receiver):
    """(sequence, webhook-id, type) of each event request, in arrival order."""
    out = []
    for headers, body in receiver.requests():
        payload = json.loads(body)
        if payload["type"] != "taskflow.ping.v1":
            out.append((payload["data"]["sequence"], headers["webhook-id"], payload["type"]))
    return out


def check_one_id_each_in_order(receiver, changes):
    got = events(receiver)
    ids = {}
    for sequence, webhook_id, _ in got:
        assert ids.setdefault(sequence, webhook_id) == webhook_id, f"event {sequence} came under two ids"
    wanted = [c["sequence"] for c in changes]
    assert sorted(ids) == wanted, f"delivered {sorted(ids)}, the feed has {wanted}"
    firsts, seen = [], set()
    for sequence, _, _ in got:
        if sequence not in seen:
            seen.add(sequence)
            firsts.append(sequence)
    assert firsts == sorted(firsts), f"out of order: {firsts}"


def verify(headers, body, secret):
    """The official verifier's answer: raises when the signature is wrong."""
    Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as data_dir:
        server = Server(args, data_dir, SENDER).start()
        try:
            api = Api(server, token(args, data_dir, "alice"))
            endpoint = api.call("POST", "/api/webhooks", {"url": receiver.url})
            first_secret = endpoint["secret"]
            print(f"endpoint {endpoint['id']} at {receiver.url}")

            # A test, then changes; every one verified.
            api.call("POST", f"/api/webhooks/{endpoint['id']}/test")
            ids = [api.call("POST", "/api/tasks", {"title": f"task {n}"})["id"] for n in range(25)]
            for task in ids[:5]:
                api.call("POST", f"/api/tasks/{task}/complete")
            api.call("PATCH", f"/api/tasks/{ids[5]}", {"priority": "high"})
            api.call("DELETE", f"/api/tasks/{ids[6]}")
            changes = until("32 changes in the feed", lambda: len(api.changes()) >= 32 and api.changes())
            until("every change delivered", lambda: len({s for s, _, _ in events(receiver)}) >= len(changes))
            for headers, body in receiver.requests():
                verify(headers, body, first_secret)
            pings = [json.loads(b) for _, b in receiver.requests() if json.loads(b)["type"] == "taskflow.ping.v1"]
            assert len(pings) == 1, pings
            check_one_id_each_in_order(receiver, changes)
            print(f"{len(changes)} changes delivered in order, each verified")

            # Rotation: both secrets verify for the overlap.
            rotated = api.call("POST", f"/api/webhooks/{endpoint['id']}/rotate-secret")["secret"]
            before = len(receiver.requests())
            api.call("POST", "/api/tasks", {"title": "after the rotation"})
            until("the delivery after the rotation", lambda: len(receiver.requests()) > before)
            headers, body = receiver.requests()[-1]
            verify(headers, body, rotated)
            verify(headers, body, first_secret)
            try:
                verify(headers, body, "whsec_" + "A" * 44)
            except Exception:
                pass
            else:
                raise AssertionError("a wrong secret verified")
            print("rotation: signed with both secrets")

            # kill -9 with deliveries in flight; a restart sends them all.
            receiver.delay = 0.2
            for n in range(15):
                api.call("POST", "/api/tasks", {"title": f"in flight {n}"})
            base = len(events(receiver))
            until("some deliveries under way", lambda: len(events(receiver)) >= base + 2)
            server.kill()
            print(f"killed with {len(events(receiver)) - base} of 15 delivered")
            receiver.delay = 0.0
            server = Server(args, data_dir, SENDER).start()
            api.server = server
            changes = api.changes()
            until("every change delivered after the restart",
                  lambda: len({s for s, _, _ in events(receiver)}) >= len(changes))
            for headers, body in receiver.requests()[before:]:
                verify(headers, body, rotated)
            check_one_id_each_in_order(receiver, changes)
            deliveries = api.call("GET", f"/api/webhooks/{endpoint['id']}/deliveries?limit=100")["deliveries"]
            until("every delivery recorded as sent", lambda: all(
                d["status"] == "succeeded"
                for d in api.call("GET", f"/api/webhooks/{endpoint['id']}/deliveries?limit=100")["deliveries"]))
            print(f"after kill -9 and restart: all {len(changes)} changes delivered, "
                  f"{len(events(receiver)) - len(changes)} sent twice under the same id, "
                  f"{len(deliveries)} deliveries logged")
        finally:
            server.stop()
            receiver.server.shutdown()
    print("webhooks black-box: OK")


if __name__ == "__main__":
    sys.exit(main())
