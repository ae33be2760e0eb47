"""reprisma: reproducible systematic-review pipeline (protocol -> snapshot -> records -> clusters -> decisions -> counts -> report)."""

__version__ = "0.1.0"


def code_fingerprint() -> str:
    """SHA-256 over the package's own files (sources and report templates), in path order.

    The workflow passes it to every stage as a parameter, so Snakemake reruns the stages when the
    code that derives the tables changes, not only when their inputs do (a ``git pull`` of reprisma
    followed by ``make run`` must not keep reports made by the old code).
    """
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
