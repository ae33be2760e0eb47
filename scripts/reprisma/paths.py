"""Where the project's own files live (schemas, templates), independent of the working directory."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
# An installed wheel carries the JSON Schemas inside the package (reprisma/schemas, mapped from
# workflow/schemas by pyproject.toml); a source checkout keeps them in workflow/schemas.
PACKAGED_SCHEMA_DIR = PACKAGE_DIR / "schemas"
SCHEMA_DIR = PACKAGED_SCHEMA_DIR if PACKAGED_SCHEMA_DIR.is_dir() else PROJECT_DIR / "workflow" / "schemas"
