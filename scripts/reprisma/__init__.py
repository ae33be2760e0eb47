"""reprisma: reproducible systematic-review pipeline (protocol -> snapshot -> records -> clusters -> decisions -> counts -> report)."""

__version__ = "0.1.0"


def code_fingerprint(package=None, schemas=None) -> str:
    """SHA-256 over the package's own files (sources and report templates) and the JSON Schemas
    the stages validate with (``workflow/schemas`` in a checkout, ``reprisma/schemas`` in an
    installed wheel), in path order.

    The workflow passes it to every stage as a parameter, so Snakemake reruns the stages when the
    code that derives the tables changes, not only when their inputs do (a ``git pull`` of reprisma
    followed by ``make run`` must not keep reports made by the old code); a schema change (e.g. a
    new decision value) counts as code. ``package`` / ``schemas``: other folders (tests).
    """
    import hashlib
    from pathlib import Path

    root = Path(package) if package else Path(__file__).resolve().parent
    if schemas is None and (root / "schemas").is_dir():
        schemas = root / "schemas"  # an installed wheel carries them inside the package
    if schemas is None:
        schemas = next((p / "workflow" / "schemas" for p in root.parents if (p / "workflow" / "schemas").is_dir()),
                       None)
    schemas = Path(schemas) if schemas else None
    digest = hashlib.sha256()
    for label, folder in (("reprisma", root), ("schemas", schemas)):
        if folder is None:
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
                continue
            if label == "reprisma" and schemas is not None and path.is_relative_to(schemas):
                continue  # hashed once, as schemas/: a wheel and a checkout of one commit agree
            digest.update(f"{label}/{path.relative_to(folder).as_posix()}".encode("utf-8") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
