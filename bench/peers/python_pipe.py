#!/usr/bin/python3
"""python_pipe.py: the suite's workloads over Python's multiprocessing.Pipe, the channel a Python program has today.

Usage: python_pipe.py rtt|p2c|c2p N SIZE

The child is a multiprocessing.Process; messages are bytes objects sent
with send_bytes() (Pipe's fastest path: no pickling), tagged with one
byte so that the child can tell a one-way message from a request, as a
Cord bench child does (bench/README.md). Prints one JSON line, as
cord-bench does.
"""
import json
import multiprocessing
import sys
import time

WARMUP = 200


def child(conn, other):
    other.close()  # the parent's end, inherited: the child must see the end of the channel
    received = 0
    while True:
        try:
            b = conn.recv_bytes()
        except EOFError:
            return
        if b[:1] == b"o":
            received += 1
        elif b == b"rcount":
            conn.send_bytes(b"r%d" % received)
            received = 0
        elif b[:6] == b"rsend ":
            n, size = (int(x) for x in b[6:].split())
            data = b"o" + b"x" * size
            for _ in range(n):
                conn.send_bytes(data)
            conn.send_bytes(b"r")
        else:
            conn.send_bytes(b)


def percentiles(ns):
    ns.sort()
    pick = lambda q: ns[min(len(ns) - 1, int(q * (len(ns) - 1) + 0.5))] / 1e3
    return {"p50_us": pick(0.5), "p99_us": pick(0.99), "p999_us": pick(0.999), "min_us": ns[0] / 1e3,
            "mean_us": sum(ns) / len(ns) / 1e3}


def main():
    case, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    parent, theirs = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=child, args=(theirs, parent))
    proc.start()
    theirs.close()
    out = {"case": case}
    if case == "rtt":
        msg = b"r" + b"x" * size
        lat = []
        for i in range(n + WARMUP):
            t0 = time.perf_counter_ns()
            parent.send_bytes(msg)
            parent.recv_bytes()
            if i >= WARMUP:
                lat.append(time.perf_counter_ns() - t0)
        out.update(percentiles(lat))
    elif case == "p2c":
        msg = b"o" + b"x" * size
        for rnd in (0, 1):
            k = n if rnd else min(n, 1000)
            t0 = time.perf_counter_ns()
            for _ in range(k):
                parent.send_bytes(msg)
            parent.send_bytes(b"rcount")
            got = int(parent.recv_bytes()[1:])
            t = time.perf_counter_ns() - t0
            if got != k:
                sys.exit("the child counted %d of %d" % (got, k))
        out["per_s"] = n / (t / 1e9)
        out["bytes_per_s"] = n * size / (t / 1e9)
    elif case == "c2p":
        for rnd in (0, 1):
            k = n if rnd else min(n, 1000)
            got = 0
            t0 = time.perf_counter_ns()
            parent.send_bytes(b"rsend %d %d" % (k, size))
            while parent.recv_bytes()[:1] == b"o":
                got += 1
            t = time.perf_counter_ns() - t0
            if got != k:
                sys.exit("%d messages came, not %d" % (got, k))
        out["per_s"] = n / (t / 1e9)
        out["bytes_per_s"] = n * size / (t / 1e9)
    else:
        sys.exit("usage: python_pipe.py rtt|p2c|c2p N SIZE")
    parent.close()
    proc.join()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
