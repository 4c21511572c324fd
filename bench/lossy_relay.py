#!/usr/bin/env python3
"""A UDP relay between two sync peers that loses, reorders and duplicates datagrams, for
bench/lossy-sync.sh: what netem would do on the sync link, on a kernel without netem.

Both daemons name the relay as their peer. A datagram from A (to LISTEN_A:PORT) goes on
to PEER_B:PORT from the B-side socket, and the other way round. Each one is dropped with
probability LOSS %, else held back with REORDER % (sent after 1-3 later ones in the same
direction, or after 20 ms of silence), else sent, and then sent twice with DUPLICATE %.
The random choices come from SEED, so a run's impairment can be repeated.

Stops after SECONDS, or on SIGTERM; either way it writes its counters as one JSON object
to COUNTERS (received, dropped, reordered, duplicated, send_errors, expired).
"""
import argparse
import json
import random
import select
import signal
import socket
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen-a", required=True)
    p.add_argument("--peer-a", required=True)
    p.add_argument("--listen-b", required=True)
    p.add_argument("--peer-b", required=True)
    p.add_argument("--port", type=int, default=3780)
    p.add_argument("--loss", type=float, default=0)
    p.add_argument("--reorder", type=float, default=0)
    p.add_argument("--duplicate", type=float, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--counters", required=True)
    o = p.parse_args()

    rng = random.Random(o.seed)
    side_a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    side_b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s, addr in ((side_a, o.listen_a), (side_b, o.listen_b)):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 << 20)
        s.bind((addr, o.port))
        s.setblocking(False)
    # What arrives on a side leaves from the other side's socket, to the other peer.
    route = {side_a: (side_b, (o.peer_b, o.port)), side_b: (side_a, (o.peer_a, o.port))}
    counts = {"received": 0, "dropped": 0, "reordered": 0, "duplicated": 0, "send_errors": 0, "expired": False}
    # Per outgoing socket: [datagram, later ones still to pass, held since].
    held = {side_a: None, side_b: None}
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    def send(out, target, data):
        try:
            out.sendto(data, target)
        except OSError:
            counts["send_errors"] += 1

    def release(out, target):
        h = held[out]
        if h is not None:
            held[out] = None
            send(out, target, h[0])

    end = time.monotonic() + o.seconds
    open(o.counters + ".ready", "w").close()
    while not stopping:
        now = time.monotonic()
        if now >= end:
            counts["expired"] = True
            break
        ready, _, _ = select.select([side_a, side_b], [], [], 0.005)
        for s in ready:
            out, target = route[s]
            for _ in range(256):
                try:
                    data = s.recv(65535)
                except BlockingIOError:
                    break
                counts["received"] += 1
                if rng.random() * 100 < o.loss:
                    counts["dropped"] += 1
                    continue
                if held[out] is None and rng.random() * 100 < o.reorder:
                    counts["reordered"] += 1
                    held[out] = [data, rng.randint(1, 3), time.monotonic()]
                    continue
                copies = 2 if rng.random() * 100 < o.duplicate else 1
                if copies == 2:
                    counts["duplicated"] += 1
                for _ in range(copies):
                    send(out, target, data)
                h = held[out]
                if h is not None:
                    h[1] -= 1
                    if h[1] <= 0:
                        release(out, target)
        now = time.monotonic()
        for s, (out, target) in route.items():
            h = held[out]
            if h is not None and now - h[2] >= 0.02:
                release(out, target)
    with open(o.counters, "w") as f:
        json.dump(counts, f)


if __name__ == "__main__":
    main()
