"""reprisma: reproducible systematic-review pipeline (protocol -> snapshot -> records -> clusters -> decisions -> counts -> report)."""

__version__ = "0.1.0"
