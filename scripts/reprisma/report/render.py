"""The HTML report: one self-contained file (inline CSS and SVG, no external URL)."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import jinja2
from markupsafe import Markup
from markupsafe import escape as markupsafe_escape

import reprisma
from reprisma.report.diagram import render_prisma_svg
from reprisma.report.charts import render_progress_svg
from reprisma.report.reported import reported_vs_reproduced
from reprisma.screen.stage import pending_breakdown

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("reprisma.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def breakable(text) -> Markup:
    """Escaped text with line-break opportunities (<wbr>) after the characters that separate the
    parts of a query, an id or a path (& ] , / : _ =), so a long query wraps between its parameters and
    terms, never inside a word."""
    out = str(markupsafe_escape("" if text is None else text))
    for sep in ("&amp;", "]", ",", "/", ":", "_", "="):
        out = out.replace(sep, sep + "<wbr>")
    return Markup(out)


_ENV.filters["breakable"] = breakable

# unresolved conflicts listed in the report; all of them are in reports/screening_conflicts.tsv
CONFLICTS_LISTED = 50


def provenance_of(manifest: dict, manifest_sha256: str) -> dict:
    """What the report says about where its numbers come from, taken from the manifest."""
    return {
        "snapshot_id": f"{manifest['protocol_id']}/{manifest['capture_id']}",
        "manifest_sha256": manifest_sha256,
        "protocol_sha256": manifest["searches_sha256"],
        "versions": manifest["versions"],
        "raw_files": [{"path": f"../{f['reused_from']}/{f['path']}" if f.get("reused_from") else f["path"],
                       "size": f["size"], "sha256": f["sha256"]}
                      for s in manifest["searches"] for f in s["files"]],
        "example": manifest.get("provenance"),
    }


def display_path(path) -> str:
    """A path as the report prints it: relative to the working directory (the project) when
    inside it, so the bytes do not depend on where the project is checked out."""
    path = Path(path)
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd().resolve())).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:
        return path.as_posix()


def human_inputs(protocol, screening: dict) -> list[dict]:
    """Every file a human edits that the numbers depend on, with its SHA-256: the protocol file,
    the screening decision files, the removal list, the dedup overrides and the study links (a
    missing optional file is listed as absent: it means "none")."""
    cfg = protocol.config
    items = [("protocol", protocol.source_path)]
    items += [("screening decisions", f) for f in screening.get("decisions_files") or []]
    items += [("removed before screening", cfg.get("removed_before_screening")),
              ("dedup overrides", (cfg.get("dedup") or {}).get("overrides")),
              ("study links", (cfg.get("dedup") or {}).get("study_links"))]
    out = []
    for role, path in items:
        if not path:
            continue
        p = Path(path)
        if p.is_file():
            data = p.read_bytes()
            out.append({"role": role, "path": display_path(p), "bytes": len(data),
                        "sha256": hashlib.sha256(data).hexdigest()})
        else:
            out.append({"role": role, "path": display_path(p), "bytes": None, "sha256": None})
    return out


# the optional human inputs the footer names when they exist
FOOTER_ROLES = {"removed before screening": "the list of records removed before screening",
                "dedup overrides": "the dedup overrides", "study links": "the reviewers' study links"}


# the libraries whose versions can change the report's bytes
RENDER_LIBRARIES = ("jinja2", "markupsafe", "pandas", "rapidfuzz", "scikit-learn", "rispy", "cairosvg", "cairocffi",
                    "snakemake")


def render_versions() -> dict:
    from importlib import metadata

    out = {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for name in RENDER_LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    try:
        import cairocffi

        out["cairo"] = cairocffi.cairo_version_string()
    except OSError:
        out["cairo"] = "not installed"
    return out


def render_provenance(protocol, screening: dict, command: str | None) -> dict:
    """What rendered the report: human inputs and their hashes, the code fingerprint, library
    versions and the command. No git commit: the reports are committed with the code, so a commit
    hash in them would change them on every commit (and never match the commit that holds them);
    the code fingerprint names the code by content instead."""
    return {"inputs": human_inputs(protocol, screening), "code_fingerprint": reprisma.code_fingerprint(),
            "versions": render_versions(), "command": command}


def render_report(protocol_config: dict, counts: dict, provenance: dict, included: list[dict],
                  dedup: dict, screening: dict, rendered: dict | None = None, lists: dict | None = None,
                  studies: list[dict] | None = None, charts: dict | None = None) -> str:
    """The report's HTML. ``charts``: the inline SVG charts build_report draws from the records,
    clusters and decision tables (years, overlap, progress); without them the progress chart is
    drawn from screening.json's progress alone and the other two are left out."""
    from reprisma.report.appendix import automation_rules, interface, search_limits
    from reprisma.report.record_lists import LISTS, box_numbers, list_path

    refresh = protocol_config.get("refresh")
    numbers = box_numbers(counts)
    record_list_rows = [{"name": name, "path": list_path(name), "what": what,
                         "rows": len(lists[name]) if lists is not None else None,
                         "box": numbers.get(name)} for name, (what, _) in LISTS.items()]
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
        charts={k: Markup(v) for k, v in (charts or {}).items()},
        progress_svg=Markup((charts or {}).get("progress", "") if charts is not None else render_progress_svg(
            screening.get("progress") or {},
            {"title_abstract": counts["prisma"]["screening"]["records_screened"],
             "full_text": counts["prisma"]["screening"]["reports_sought"]})),
        reported=reported_vs_reproduced(protocol_config, counts, provenance),
        rendered=rendered,
        record_lists=record_list_rows,
        studies=studies or [],
        interface=interface,
        limits={s["search_id"]: search_limits(protocol_config, s["search_id"], s.get("window"))
                for s in counts["searches"]},
        automation_rules=automation_rules(protocol_config),
        footer_roles=FOOTER_ROLES,
    )
