"""The moto server of the compose stack (local Cognito, and DynamoDB where DynamoDB Local is not
available), made durable: moto keeps its state in memory, so every request is recorded with
moto's own recorder into MOTO_RECORDER_FILEPATH (a volume) and the recording is replayed at
start, before the container reports healthy (MOTO_READY_FILE, read by the health check).

Moto's random generator is seeded at the very start of a new recording, so a replay recreates
the same Cognito user ``sub`` values and the profiles, decisions and plans keyed by them stay
reachable. Reads change no state, so they are dropped from the recording at each start (a
replay of writes alone rebuilds the same state, much faster). The recording holds every other
request, passwords of local sign-ups included: it is a local development volume, never used
outside the compose stack.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import requests
from moto.moto_api import recorder
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

SEED = "20261128"
# Operations that only read (no state, no random number drawn): not worth replaying.
READS = frozenset(
    f"DynamoDB_20120810.{operation}"
    for operation in (
        "BatchGetItem",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListTables",
        "Query",
        "Scan",
        "TransactGetItems",
    )
)


def compact(recording: Path) -> int:
    """Drop the reads (and GETs: JWKS, moto's dashboard) from the recording; return what is left."""
    kept = []
    with recording.open() as lines:
        for line in lines:
            entry = json.loads(line)
            if entry.get("method") == "GET" or entry.get("headers", {}).get("X-Amz-Target") in READS:
                continue
            kept.append(line if line.endswith("\n") else line + "\n")
    partial = recording.with_suffix(".compacting")
    partial.write_text("".join(kept))
    os.replace(partial, recording)
    return len(kept)


def serialised_app() -> Any:
    """Moto's WSGI app, one request at a time.

    DynamoDB runs every request atomically; moto's in-memory backend does not: a transaction
    deep-copies the tables it touches (to restore them if it is cancelled) while other threads
    write to them, which raised "dictionary changed size during iteration" under concurrent
    decisions and would undo writes made meanwhile. One lock gives the adapters the isolation they
    rely on in AWS (the same as ``bnpl_common.testing.moto_server`` in the tests); clients still
    send in parallel.
    """
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ: Any, start_response: Any) -> Any:
        with lock:
            return list(app(environ, start_response))

    return serialised


def main() -> None:
    parser = argparse.ArgumentParser(description="durable moto server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    port = parser.parse_args().port
    recording = Path(os.environ["MOTO_RECORDER_FILEPATH"])
    ready = Path(os.environ.get("MOTO_READY_FILE", "/tmp/moto-ready"))
    ready.unlink(missing_ok=True)
    local = f"http://127.0.0.1:{port}"

    server = make_server("0.0.0.0", port, serialised_app(), threaded=True, request_handler=MotoRequestHandler)  # noqa: S104 (in a container)
    threading.Thread(target=server.serve_forever, name="moto-server", daemon=True).start()
    if recording.exists() and recording.stat().st_size > 0:
        started = time.monotonic()
        count = compact(recording)
        # Replayed against this process whatever host name the requests were recorded under.
        recorder.replay_recording(target_host=local)
        print(f"moto: replayed {count} recorded requests in {time.monotonic() - started:.1f} s", flush=True)
        recorder.start_recording()
    else:
        recorder.start_recording()
        requests.post(f"{local}/moto-api/seed?a={SEED}", timeout=10).raise_for_status()
        print("moto: new recording", flush=True)
    ready.touch()

    # PID 1 in a container gets no default SIGTERM action: stop on it, or `docker stop` waits
    # out its timeout and kills.
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    stopping.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
