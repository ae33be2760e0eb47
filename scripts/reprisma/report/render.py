"""The HTML report: one self-contained file (inline CSS and SVG, no script, no external URL)."""

from __future__ import annotations

import jinja2
from markupsafe import Markup

import reprisma
from reprisma.report.diagram import render_prisma_svg
from reprisma.report.progress import render_progress_svg

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("reprisma.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


# unresolved conflicts listed in the report; all of them are in reports/screening_conflicts.tsv
CONFLICTS_LISTED = 50


# why records are pending (screening.json "pending"), in the report's words
PENDING_PARTS = (("conflict", "in conflict"), ("awaiting_second_reviewer", "awaiting a second reviewer"),
                 ("maybe_at_full_text", "marked maybe at full text"), ("not_screened", "not yet screened by anyone"))


def pending_breakdown(screening: dict) -> dict[str, str]:
    """Per stage, why its pending records wait, the non-zero parts: '2 in conflict, 507 not yet
    screened by anyone'."""
    return {stage: ", ".join(f"{counts[k]:,} {label}" for k, label in PENDING_PARTS if counts.get(k))
            for stage, counts in (screening.get("pending") or {}).items()}


def provenance_of(manifest: dict, manifest_sha256: str) -> dict:
    """What the report says about where its numbers come from, taken from the manifest."""
    return {
        "snapshot_id": f"{manifest['protocol_id']}/{manifest['capture_id']}",
        "manifest_sha256": manifest_sha256,
        "protocol_sha256": manifest["searches_sha256"],
        "versions": manifest["versions"],
        "raw_files": [{"path": f["path"], "size": f["size"], "sha256": f["sha256"]}
                      for s in manifest["searches"] for f in s["files"]],
        "example": manifest.get("provenance"),
    }


def render_report(protocol_config: dict, counts: dict, provenance: dict, included: list[dict],
                  dedup: dict, screening: dict) -> str:
    refresh = protocol_config.get("refresh")
    return _ENV.get_template("report.html.j2").render(
        protocol=protocol_config["protocol"] | {"citation": protocol_config["protocol"].get("citation", ""),
                                                "doi": protocol_config["protocol"].get("doi")},
        counts=counts,
        provenance=provenance | {"versions": provenance["versions"] | {"reprisma": reprisma.__version__}},
        refresh=refresh if refresh and refresh.get("enabled") else None,
        svg=Markup(render_prisma_svg(counts)),
        included=included,
        dedup=dedup,
        automation=counts["prisma"]["identification"].get("ineligible_by_automation_reasons") or {},
        screening=screening,
        pending=pending_breakdown(screening),
        unresolved_conflicts=(screening.get("unresolved_conflicts") or [])[:CONFLICTS_LISTED],
        progress_svg=Markup(render_progress_svg(screening.get("progress") or [],
                                                counts["prisma"]["screening"]["records_screened"])),
    )
