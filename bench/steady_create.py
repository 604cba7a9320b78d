#!/usr/bin/env python3
"""Creates conversations at a steady rate for bench/soak.sh.

wrk sends as fast as its connections allow; a soak wants a fixed rate instead, so request i is
due at start + i / rate, taken in turn by a few threads with a keep-alive connection each. A
thread that falls behind sends at once (the achieved rate is reported, not assumed).

Usage: steady_create.py URL PATH HEADER BODY RATE SECONDS THREADS OUT_JSON
Prints nothing; writes {"attempted", "succeeded", "statuses", "errors", "seconds", "latency_ms"} to OUT_JSON.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

url, path, header, body, rate, seconds, threads, out = sys.argv[1:9]
rate, seconds, threads = float(rate), float(seconds), int(threads)
target = urllib.parse.urlsplit(url)
name, _, value = header.partition(":")
headers = {name.strip(): value.strip(), "Content-Type": "application/json"}
payload = body.encode()

lock = threading.Lock()
next_slot = 0
statuses = {}
errors = {}
latencies = []
start = time.monotonic() + 0.2
end = start + seconds


def take_slot():
    global next_slot
    with lock:
        slot = next_slot
        next_slot += 1
    return start + slot / rate


def record(status=None, error=None, latency=None):
    with lock:
        if status is not None:
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(latency)
        else:
            errors[error] = errors.get(error, 0) + 1


def worker():
    connection = None
    while True:
        due = take_slot()
        if due >= end:
            break
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        sent = time.monotonic()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            connection.request("POST", path, body=payload, headers=headers)
            response = connection.getresponse()
            response.read()
            record(status=response.status, latency=(time.monotonic() - sent) * 1000)
        except Exception as ex:  # a refused or broken connection is counted, then reopened
            record(error=type(ex).__name__)
            if connection is not None:
                connection.close()
            connection = None


pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
for thread in pool:
    thread.start()
for thread in pool:
    thread.join()

latencies.sort()


def percentile(p):
    return round(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))], 1) if latencies else None


attempted = sum(statuses.values()) + sum(errors.values())
with open(out, "w") as f:
    json.dump({
        "attempted": attempted,
        "succeeded": sum(n for s, n in statuses.items() if 200 <= s < 300),
        "statuses": {str(s): n for s, n in sorted(statuses.items())},
        "errors": errors,
        "seconds": round(time.monotonic() - start, 1),
        "latency_ms": {"p50": percentile(50), "p99": percentile(99), "max": percentile(100)},
    }, f)
