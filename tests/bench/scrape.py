#!/usr/bin/python3
# Benchmark helper: scrapes a metrics URL every INTERVAL seconds over one kept-alive connection,
# as Prometheus does, appending each scrape's time (request to last byte) to TIMES.
# A scrape that fails is written to FAILED. Runs until SIGTERM. Usage: URL INTERVAL TIMES FAILED
import http.client
import signal
import sys
import time
import urllib.parse

url, interval, times_path, failed_path = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
u = urllib.parse.urlsplit(url)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def scrape(conn):
    conn.request("GET", u.path, headers={"Accept": "text/plain"})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        raise OSError(f"HTTP {r.status}")
    return r


conn = None
with open(times_path, "a", buffering=1) as times, open(failed_path, "a", buffering=1) as failed:
    while True:
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
            try:
                r = scrape(conn)
            except (http.client.HTTPException, ConnectionError):
                # The server closed the kept-alive connection: a new one, as Prometheus would.
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
                t0 = time.monotonic()
                r = scrape(conn)
            times.write(f"{time.monotonic() - t0:.6f}\n")
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # noqa: BLE001 - every failure is recorded, none ends the run
            failed.write(f"{e}\n")
            conn = None
        time.sleep(max(0.0, interval - (time.monotonic() - t0)))
