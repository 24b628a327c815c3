"""Docker health check of the beat container: exit 0 when a ``celery ... beat`` process runs (the slim
image has no pgrep)."""

import os
import sys


def beat_running() -> bool:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                arguments = cmdline.read().split(b"\x00")
        except OSError:
            continue  # the process ended while we looked
        if b"beat" in arguments and any(argument.endswith(b"celery") for argument in arguments):
            return True
    return False


if __name__ == "__main__":
    sys.exit(0 if beat_running() else 1)
