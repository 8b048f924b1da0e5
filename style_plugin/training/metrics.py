"""The JSON-lines metrics log of a run: one object per logged step."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from style_plugin.atomic import atomic_write_text

METRICS_NAME = "metrics.jsonl"


class MetricsLog:
    """Appends records to RUN_DIR/metrics.jsonl; on resume forgets steps after the checkpoint."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / METRICS_NAME

    def truncate_after(self, step: int) -> None:
        """Drop records newer than `step` (left by a run that died after its last checkpoint)."""
        if not self.path.exists():
            return
        kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= step]
        atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in kept))

    def append(self, record: dict[str, Any]) -> None:
        """Add one record; non-finite numbers are written as strings so the line stays JSON."""
        clean = {
            k: (v if not isinstance(v, float) or math.isfinite(v) else str(v))
            for k, v in record.items()
        }
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(clean) + "\n")


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """All complete records of a metrics file (a torn last line is ignored)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
