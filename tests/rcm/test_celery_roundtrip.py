"""A task goes through the configured broker to a real worker process and its result comes back."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from rcm.tasks import ping

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.celery_worker
def test_task_round_trip_through_a_real_worker(settings):
    queue = f"roundtrip-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "rcm",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            queue,
        ],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        nonce = uuid.uuid4().hex
        result = ping.apply_async(args=[nonce], queue=queue)
        assert result.get(timeout=90) == f"pong {nonce}"
        assert result.status == "SUCCESS"
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert "Traceback" not in output, output
