"""Where the project's own files live (schemas, templates), independent of the working directory."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
SCHEMA_DIR = PROJECT_DIR / "workflow" / "schemas"
