"""Runs every benchmark several times (each run a fresh process), then writes docs/benchmarks.md.

Usage: python bench/run.py [--repeat 5] [--load-seconds 20] [--skip-load] [--out docs/benchmarks.md]
Expects the database named by DATABASE_URL to hold bench data (scripts/bench.sh makes it)."""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv/bin/python")

parser = argparse.ArgumentParser()
parser.add_argument("--repeat", type=int, default=5)
parser.add_argument("--load-seconds", type=float, default=20)
parser.add_argument("--skip-load", action="store_true")
parser.add_argument("--scrub-claims", type=int, default=100_000)
parser.add_argument("--kpi-backfill-days", type=int, default=400, help="the KPI history computed first")
parser.add_argument(
    "--only",
    choices=("all", "kpis", "contracts", "denials", "underpayments", "statements", "reminders"),
    default="all",
    help="kpis: only the KPI benchmarks; contracts: only the fee schedule import; denials: only the denial "
    "benchmarks (queue and analytics pages, the nightly risk run, load); underpayments: the variance "
    "recompute and the payer scorecard page; statements: the statement run against WeasyPrint alone; "
    "reminders: the daily reminder job",
)
parser.add_argument("--statements", type=int, default=200, help="statements made per statement-run measure")
parser.add_argument("--out", default=str(ROOT / "var" / "bench" / "results.json"))
args = parser.parse_args()


def run(script: str, *options: str) -> list[dict]:
    command = [PY, str(ROOT / "bench" / script), *options]
    print("$", " ".join(command[1:]), flush=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-4000:], file=sys.stderr)
        return [{"name": f"{script} {' '.join(options)}", "error": done.stderr.strip().splitlines()[-1:]}]
    return [json.loads(line[6:]) for line in done.stdout.splitlines() if line.startswith("BENCH ")]


def repeated(script: str, *options: str) -> list[list[dict]]:
    return [run(script, *options) for _ in range(args.repeat)]


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total = next(line for line in meminfo if line.startswith("MemTotal")).split()[1]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(int(total) / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_before": Path("/proc/loadavg").read_text().split()[:3],
    }


def database() -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    import common  # noqa: F401  (Django set-up)
    from django.db import connection

    from claims.models import Claim, ClaimLine, ClaimStatusChange, Remittance, RemittanceClaim, Transaction
    from rcm.models import Patient, Practice

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    return {
        "version": version,
        "size": size,
        "practices": Practice.objects.filter(slug__regex=r"^bench-[0-9]+$").count(),
        "claims": Claim.objects.count(),
        "lines": ClaimLine.objects.count(),
        "transactions": Transaction.objects.count(),
        "status_changes": ClaimStatusChange.objects.count(),
        "patients": Patient.objects.count(),
        "remittances": Remittance.objects.count(),
        "remittance_claims": RemittanceClaim.objects.count(),
        "bench_001_claims": Claim.objects.filter(practice__slug="bench-001").count(),
    }


KPI_PAGES = ["kpi dashboard", "kpi drill-down initial denials", "kpi drill-down A/R over 120"]
DENIAL_PAGES = ["denial queue", "denial queue by deadline", "api denials list", "denial analytics"]
results = {
    "only": args.only,
    "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    "machine": machine(),
    "database": database(),
    "repeat": args.repeat,
    "runs": {},
}
# The KPI history first (committed: the dashboard, its drill-downs and the load test read it), then the
# nightly run with its bare SQL floor.
KPI_RUNS = args.only in ("all", "kpis")
if args.only == "denials":
    results["runs"]["pages"] = [run("bench_pages.py", "--only", "denial")]
NEEDS_KPI_HISTORY = args.only in ("all", "kpis", "underpayments")  # the scorecard reads it too
if args.kpi_backfill_days and NEEDS_KPI_HISTORY:  # 0 days: the history is kept (BENCH_KEEP_DB)
    results["runs"]["kpi_backfill"] = [
        run("bench_kpis.py", "--mode", "backfill", "--days", str(args.kpi_backfill_days))
    ]
if KPI_RUNS:
    results["runs"]["kpi_nightly"] = repeated("bench_kpis.py", "--mode", "nightly")
if args.only in ("all", "contracts"):
    # A 20,000-row fee schedule loaded (issue #13: < 5 s); needs no benchmark data.
    results["runs"]["fee_schedule_csv"] = repeated("bench_fee_schedule.py", "--format", "csv")
    results["runs"]["fee_schedule_xlsx"] = repeated("bench_fee_schedule.py", "--format", "xlsx")
if args.only in ("all", "underpayments"):
    # Variances of every adjudicated line against its bare SQL join, and the payer scorecard page (its
    # figures precomputed by the KPI backfill).
    results["runs"]["underpayment_variances"] = repeated("bench_underpayments.py", "--mode", "variances")
    results["runs"]["payer_scorecard"] = repeated("bench_underpayments.py", "--mode", "scorecard")
# Denials (#12): the analytics pages in process, and the nightly denial risk run.
if args.only in ("all", "denials"):
    results["runs"]["denial_pages"] = [run("bench_denials.py", "--mode", "pages")]
    results["runs"]["denial_risk"] = repeated("bench_denials.py", "--mode", "risk")
if args.only in ("all", "statements"):
    results["runs"]["statements"] = repeated("bench_statements.py", "--statements", str(args.statements))
if args.only in ("all", "reminders"):
    results["runs"]["reminders_daily"] = repeated("bench_reminders.py")
if args.only == "all":
    results["runs"]["scrub"] = repeated("bench_scrub.py", "--claims", str(args.scrub_claims))
    results["runs"]["837p_build"] = repeated("bench_837.py")
    results["runs"]["837p_build_validate"] = [
        run("bench_837.py", "--validate") for _ in range(max(1, args.repeat // 3))
    ]
    results["runs"]["835_setup"] = [run("bench_835.py", "--mode", "setup")]
    for mode in ("post", "import", "pyx12", "read"):
        results["runs"][f"835_{mode}"] = (
            repeated("bench_835.py", "--mode", mode)
            if mode != "import"
            else [run("bench_835.py", "--mode", mode) for _ in range(max(1, args.repeat // 3))]
        )
    results["runs"]["pages"] = [run("bench_pages.py")]
    results["runs"]["ledger_check"] = repeated("bench_ledger_check.py")
if not args.skip_load and args.only not in ("underpayments", "statements", "contracts", "reminders"):
    # Users working (a 1-3 s pause between pages: the targets' case), then the same users without pauses
    # (the server's capacity). With --only kpis: the KPI pages alone.
    only = {"kpis": ["--only", ",".join(KPI_PAGES)], "denials": ["--only", ",".join(DENIAL_PAGES)]}.get(
        args.only, []
    )
    results["runs"]["load"] = [
        run("load.py", "--seconds", str(args.load_seconds), "--think", "1-3", *only),
        run("load.py", "--seconds", str(args.load_seconds), "--think", "0", *only),
    ]
results["finished"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
results["machine"]["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
Path(args.out).parent.mkdir(parents=True, exist_ok=True)
Path(args.out).write_text(json.dumps(results, indent=1, default=str))
print(f"wrote {args.out}")
if args.only == "all":
    subprocess.run([PY, str(ROOT / "bench" / "report.py"), args.out], cwd=ROOT, check=True)  # noqa: S603
if args.only in ("all", "contracts"):
    subprocess.run([PY, str(ROOT / "bench" / "report_contracts.py"), args.out], cwd=ROOT, check=True)  # noqa: S603
if args.only in ("all", "underpayments"):
    subprocess.run([PY, str(ROOT / "bench" / "report_underpayments.py"), args.out], cwd=ROOT, check=True)  # noqa: S603
if KPI_RUNS:  # a focused run keeps its figures in the JSON; the KPI report is for a full or KPI run
    subprocess.run([PY, str(ROOT / "bench" / "report_kpis.py"), args.out], cwd=ROOT, check=True)  # noqa: S603
if args.only in ("all", "denials"):
    subprocess.run([PY, str(ROOT / "bench" / "report_denials.py"), args.out], cwd=ROOT, check=True)  # noqa: S603
if args.only in ("all", "statements"):
    subprocess.run([PY, str(ROOT / "bench" / "report_statements.py"), args.out], cwd=ROOT, check=True)  # noqa: S603
del statistics
