"""One line describing the machine a benchmark ran on (written beside every result)."""

import os
import platform
from pathlib import Path

import psutil


def describe() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return (f"{cpu}; nproc {os.cpu_count()}; {mem:.0f} GiB RAM; "
            f"Python {platform.python_version()}; {platform.system()}")
