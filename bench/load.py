"""Load test: the app under gunicorn on 127.0.0.1, 20 signed-in users (threads, one keep-alive
connection and one session each) requesting one page for ``--seconds`` per scenario. With
``--think 1-3`` each user pauses a random 1 to 3 seconds between pages, as people working do (a
biller reads a page before the next click; locust's ``between(1, 3)``); with ``--think 0`` they
request as fast as they can, which measures the server's capacity rather than what a user waits.
Reports p50/p95/p99 latency and throughput per scenario as BENCH lines.

Standard library only (http.client): nothing to install. The client runs on the same two cores as
the server and the database, so the throughput is a floor of what the server could do alone."""

import argparse
import http.client
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

parser = argparse.ArgumentParser()
parser.add_argument("--users", type=int, default=20)
parser.add_argument("--seconds", type=float, default=20)
parser.add_argument("--workers", type=int, default=4)
parser.add_argument("--port", type=int, default=8765)
parser.add_argument("--only", default="", help="comma-separated scenario names")
parser.add_argument("--think", default="0", help="seconds each user waits between pages: 0, or MIN-MAX (1-3)")
args = parser.parse_args()
THINK = tuple(float(x) for x in args.think.split("-")) if args.think != "0" else None


def claim_ids() -> list[int]:
    sys.path.insert(0, str(Path(__file__).parent))
    from common import bench_practice

    from claims.models import Claim

    practice = bench_practice()
    return list(Claim.objects.filter(practice=practice).order_by("?").values_list("pk", flat=True)[:2000])


IDS = claim_ids()


SCENARIOS = {
    "claim list": lambda: "/claims/",
    "claim list status=denied": lambda: "/claims/?status=denied",
    "claim detail": lambda: f"/claims/{random.choice(IDS)}/",  # noqa: S311
    "work queues": lambda: "/claims/queues/",
    "queue denied": lambda: "/claims/queues/denied/",
    "queue underpaid": lambda: "/claims/queues/underpaid/",
    "landing (biller)": lambda: "/",
    "remittance list": lambda: "/remittances/",
    "api claims list": lambda: "/api/claims/",
    "api claim detail": lambda: f"/api/claims/{random.choice(IDS)}/",  # noqa: S311
    "denial queue": lambda: "/denials/",
    "denial queue by deadline": lambda: "/denials/?sort=deadline",
    "api denials list": lambda: "/api/denials/",
    # The KPI pages are the manager's (kpis.view): the dashboard's default 30 days, and the claims behind a
    # flow KPI (initial denials) and a stock one (A/R over 120 days, as of the last computed day).
    "kpi dashboard": lambda: "/kpis/",
    "kpi drill-down initial denials": lambda: "/kpis/claims/?kpi=initial_denial_rate&part=numerator",
    "kpi drill-down A/R over 120": lambda: "/kpis/claims/?kpi=ar_over_120_pct&part=numerator",
    # Denial analytics (#12): the manager's, the default twelve months.
    "denial analytics": lambda: "/denials/analytics/",
}
# Who requests each page (the biller unless named here).
SCENARIO_USERS = {name: "bench-manager" for name in SCENARIOS if name.startswith("kpi ")}
SCENARIO_USERS["denial analytics"] = "bench-manager"


class Session:
    def __init__(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data

    def login(self, username, password):
        status, page = self.request("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        )
        status, _ = self.request(
            "POST",
            "/login/",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{args.port}/login/",
            },
        )
        if status != 302:
            raise SystemExit(f"login failed: {status}")


def run_scenario(name, sessions):
    make_path = SCENARIOS[name]
    latencies, errors = [], [0]
    stop = time.monotonic() + args.seconds
    lock = threading.Lock()

    def user(session):
        mine = []
        if THINK:  # users arrive spread over one think time, not all in the same instant
            time.sleep(random.uniform(0, THINK[1]))  # noqa: S311
        while time.monotonic() < stop:
            path = make_path()
            started = time.perf_counter()
            try:
                status, _ = session.request("GET", path)
            except (OSError, http.client.HTTPException):
                session.conn.close()
                status = 0
            mine.append((time.perf_counter() - started) * 1000)
            if status != 200:
                with lock:
                    errors[0] += 1
            if THINK:
                time.sleep(min(random.uniform(*THINK), max(0.0, stop - time.monotonic())))  # noqa: S311
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=user, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))]

    import json

    print(
        "BENCH "
        + json.dumps(
            {
                "name": f"load {name}",
                "users": len(sessions),
                "requests": len(latencies),
                "errors": errors[0],
                "seconds": round(elapsed, 1),
                "rps": round(len(latencies) / elapsed, 1),
                "p50_ms": round(pct(0.50), 1),
                "p95_ms": round(pct(0.95), 1),
                "p99_ms": round(pct(0.99), 1),
                "mean_ms": round(statistics.mean(latencies), 1),
                "workers": args.workers,
                "think": args.think,
            }
        ),
        flush=True,
    )


def main():
    env = dict(
        os.environ,
        DEBUG="false",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-secret-key-" + "x" * 40),
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_MANIFEST="false",
        DATABASE_POOL_MAX=os.environ.get("DATABASE_POOL_MAX", "4"),
        LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "rcm.wsgi",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        # Until a worker answers (not just the port bound): on a busy machine workers take a while to boot.
        for _ in range(300):
            try:
                probe = http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
                probe.request("GET", "/healthz")
                probe.getresponse().read()
                break
            except (OSError, http.client.HTTPException):
                time.sleep(0.2)
        signed_in: dict[str, list[Session]] = {}

        def users_of(name):
            username = SCENARIO_USERS.get(name, "bench-biller")
            if username not in signed_in:
                signed_in[username] = []
                for _ in range(args.users):
                    session = Session()
                    session.login(username, "bench-password-1")
                    signed_in[username].append(session)
            return signed_in[username]

        names = [n for n in SCENARIOS if not args.only or n in args.only.split(",")]
        for name in names:
            sessions = users_of(name)
            statuses = {session.request("GET", SCENARIOS[name]())[0] for session in sessions}  # warm up
            if statuses != {200}:
                print(f"skipped {name}: answered {sorted(statuses)}", file=sys.stderr)
                continue
            run_scenario(name, sessions)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


main()
