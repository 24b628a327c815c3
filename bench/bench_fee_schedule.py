"""Loading a 20,000-row fee schedule (issue #13: under 5 s): the file read and checked, then applied into an
empty contract (preview + apply, the page's two steps in one), then the same file again (idempotent: nothing
to change), then a file with every amount changed. CSV or XLSX (``--format``); everything rolled back.

Needs no benchmark data: it makes its own practice, payer and contract inside the rolled-back transaction."""

import argparse
import csv
import datetime
import io
import time

from common import Timer, emit, rolled_back
from openpyxl import Workbook

from rcm.contracts.fee_schedules import fee_schedule_import, fee_schedule_read
from rcm.contracts.services import contract_create, payer_create
from rcm.models import FeeScheduleRow, Practice

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=20_000)
parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
args = parser.parse_args()

HEADER = ["code", "modifier", "setting", "allowed_amount"]


def table(rows: int, cents_up: int = 0) -> list[list]:
    """``rows`` distinct rows: codes 10000 and up, each in both settings."""
    out = []
    for i in range(rows):
        code, facility = 10000 + i // 2, i % 2 == 1
        cents = 2500 + (i * 37) % 20000 + cents_up
        out.append(
            [str(code), "", "facility" if facility else "non-facility", f"{cents // 100}.{cents % 100:02d}"]
        )
    return out


def file_bytes(rows: list[list]) -> bytes:
    if args.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        writer.writerows(rows)
        return buffer.getvalue().encode()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Fees")
    sheet.append(HEADER)
    for code, modifier, setting, amount in rows:
        sheet.append([int(code), modifier or None, setting, float(amount)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


first = file_bytes(table(args.rows))
changed = file_bytes(table(args.rows, cents_up=1))
name = f"fees.{args.format}"


def measure():
    practice = Practice.objects.create(name="Bench fees", slug="bench-fee-schedule")
    payer = payer_create(practice=practice, name="Bench payer", payer_id="BENCH1", kind="commercial")
    contract = contract_create(
        practice=practice, payer=payer, name="Bench 2026", effective_date=datetime.date(2026, 1, 1)
    )
    with Timer() as read:
        report = fee_schedule_read(file_name=name, content=first)
    assert report.ok and len(report.lines) == args.rows, report.summary
    cpu = time.process_time()
    with Timer() as load:
        done = fee_schedule_import(contract=contract, file_name=name, content=first)
    cpu = time.process_time() - cpu  # this process's own time: the shared machine's load left out
    assert done.counts["added"] == args.rows
    with Timer() as again:
        fee_schedule_import(contract=contract, file_name=name, content=first)
    with Timer() as update:
        done = fee_schedule_import(contract=contract, file_name="changed." + args.format, content=changed)
    assert done.counts["changed"] == args.rows
    assert FeeScheduleRow.objects.filter(contract=contract).count() == args.rows
    return read.seconds, load.seconds, cpu, again.seconds, update.seconds


read_seconds, seconds, cpu_seconds, again_seconds, update_seconds = rolled_back(measure)
with open("/proc/loadavg") as loadavg:
    load_average = loadavg.read().split()[0]
emit(
    load=load_average,
    name=f"fee schedule import {args.format}",
    format=args.format,
    rows=args.rows,
    bytes=len(first),
    seconds=seconds,
    cpu_seconds=cpu_seconds,
    read_seconds=read_seconds,
    again_seconds=again_seconds,
    update_seconds=update_seconds,
)
