"""One controller candidate as its own process, for tests that freeze or kill it.

`python -m tests.kube.candidate URL TOKEN IDENTITY OUT [CA_FILE]` competes for the Lease
`ml/tfprod-controller` with the shortest durations and, every 10 ms while it leads, "acts":
appends `{"act": t}` to OUT (t: the monotonic clock, shared by all processes of the machine,
read before asking `is_leader()`). On SIGTERM it stops without releasing the Lease and appends
`{"terms": [[start, end], ...]}`. CA_FILE: the server's CA, for a real API server's TLS.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from types import FrameType

from tfprod.runtime.kube import LeaseElector, LeaseTiming, api_client

# The shortest durations the library accepts: whole seconds, retry >= 1, deadline > 1.2 x retry.
FAST = LeaseTiming(lease_duration=3, renew_deadline=2, retry_period=1)


def main(url: str, token: str, identity: str, out: str, ca_file: str | None = None) -> None:
    done = threading.Event()

    def terminate(_signal: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, terminate)
    client = api_client(host=url, token=token, ca_file=ca_file)
    elector = LeaseElector(
        client, namespace="ml", name="tfprod-controller", identity=identity, timing=FAST
    )
    with open(out, "a", buffering=1, encoding="utf-8") as log:
        elector.start()
        while not done.is_set():
            before = time.monotonic()
            if elector.is_leader():
                log.write(json.dumps({"act": before}) + "\n")
            done.wait(0.01)
        elector.stop(release=False)
        terms = [[term.start, term.end] for term in elector.terms]
        log.write(json.dumps({"terms": terms}) + "\n")
    client.close()


if __name__ == "__main__":
    main(*sys.argv[1:6])
