"""Exchange with screening tools: export what is left to screen, import their decisions.

Export (:func:`export_for_screening`): the unscreened records in ranking order, as

* CSV with the column names Rayyan's CSV import documents (``key, title, authors, journal, issn,
  volume, issue, pages, year, publisher, url, abstract, notes``) plus ``rank``, ``record_id``,
  ``doi``, ``pmid``, ``keywords``. ASReview LAB reads ``title``, ``abstract``, ``authors``,
  ``keywords``, ``doi``, ``url``, ``year`` from it and keeps every other column in its export;
* RIS (rispy; EndNote, Zotero, Rayyan and ASReview LAB import it): ``TY``, ``TI``, ``AU``, ``AB``,
  ``JO``, ``VL``, ``IS``, ``SP``/``EP``, ``PY``, ``DO``, ``UR``, ``KW``, ``AN`` (PMID), ``ID``
  (reprisma record id) and ``N1`` notes ``reprisma_record_id: <id>`` and ``reprisma_rank: <n>``,
  which ASReview carries through to its export and which this module reads back.

Import:

* :func:`import_asreview`: ASReview LAB's "export dataset" file, CSV/TSV (column
  ``asreview_label`` 1/0/empty, ``asreview_time``; ASReview 1.x used ``included``) or RIS
  (notes ``ASReview_relevant``/``ASReview_irrelevant``/``ASReview_not_seen`` and
  ``asreview_time: "..."``);
* :func:`import_rayyan`: Rayyan's CSV export, whose ``notes`` column holds
  ``RAYYAN-INCLUSION: {"Alice"=>"Included", "Bob"=>"Excluded"} | RAYYAN-LABELS: ... |
  RAYYAN-EXCLUSION-REASONS: reason 1,reason 2 | USER-NOTES: {...}``.

Both return decision rows (``reprisma.screen.decisions.COLUMNS``) ready for
:func:`reprisma.screen.decisions.write_decisions_tsv`. Records are matched to reprisma ids by
the ``record_id`` column / note, else by ``key``, PMID or DOI against ``records`` when given; a
row that matches nothing is an error naming the file and line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Mapping

import pandas as pd

from reprisma.screen.decisions import COLUMNS

__all__ = [
    "EXPORT_COLUMNS",
    "export_for_screening",
    "import_asreview",
    "import_rayyan",
    "parse_rayyan_notes",
]

EXPORT_COLUMNS = [
    "rank", "record_id", "key", "title", "authors", "journal", "issn", "volume", "issue", "pages",
    "year", "publisher", "url", "abstract", "notes", "doi", "pmid", "keywords",
]
NOTE_ID = "reprisma_record_id: "
NOTE_RANK = "reprisma_rank: "


def _s(v) -> str:
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, float) and v != v:
        return ""
    if isinstance(v, (list, tuple)):
        return "; ".join(str(x) for x in v)
    return str(v)


def _list(v) -> list:
    if v is None or (isinstance(v, float) and v != v):
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    if hasattr(v, "tolist"):
        return [str(x) for x in v.tolist()]
    return [str(v)] if str(v) else []


def _atomic_write(path: Path, text: str) -> None:
    from reprisma.snapshot import atomic_write_text

    atomic_write_text(path, text)


def _url(rec: Mapping) -> str:
    rid = _s(rec.get("record_id"))
    if rec.get("pmid"):
        return f"https://pubmed.ncbi.nlm.nih.gov/{rec['pmid']}/"
    if rid.startswith("ctgov:"):
        return f"https://clinicaltrials.gov/study/{rid.split(':', 1)[1]}"
    if rec.get("doi"):
        return f"https://doi.org/{rec['doi']}"
    return ""


def _ordered(records, ranking) -> list[dict]:
    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    by_id = {str(r["record_id"]): r for r in df.to_dict("records")}
    rk = ranking if isinstance(ranking, pd.DataFrame) else pd.DataFrame(list(ranking))
    rk = rk.sort_values("rank", kind="stable")
    out = []
    for rank, rid in zip(rk["rank"], rk["record_id"]):
        rid = str(rid)
        if rid not in by_id:
            raise KeyError(f"ranking names record {rid!r}, which is not among the records")
        rec = dict(by_id[rid])
        rec["rank"] = int(rank)
        out.append(rec)
    return out


def export_for_screening(
    records,
    ranking,
    *,
    csv_path: str | Path | None = None,
    ris_path: str | Path | None = None,
) -> list[dict]:
    """Write the records of ``ranking`` (columns ``rank, record_id``; e.g. from
    :func:`reprisma.screen.ranking.rank_records`) in rank order as CSV and/or RIS.

    ``records``: record-schema dicts or a DataFrame of them (at least ``record_id``, ``title``).
    Returns the exported rows (dicts with ``EXPORT_COLUMNS``).
    """
    rows = []
    ris_entries = []
    for rec in _ordered(records, ranking):
        rid = _s(rec.get("record_id"))
        pages = _s(rec.get("pages"))
        year = rec.get("year")
        year = "" if year is None or pd.isna(year) else str(int(year))
        notes = [f"{NOTE_ID}{rid}", f"{NOTE_RANK}{rec['rank']}"]
        row = {
            "rank": rec["rank"],
            "record_id": rid,
            "key": rid,
            "title": _s(rec.get("title")),
            "authors": " and ".join(_list(rec.get("authors"))),
            "journal": _s(rec.get("journal")),
            "issn": "",
            "volume": _s(rec.get("volume")),
            "issue": _s(rec.get("issue")),
            "pages": pages,
            "year": year,
            "publisher": "",
            "url": _url(rec),
            "abstract": _s(rec.get("abstract")),
            "notes": "; ".join(notes),
            "doi": _s(rec.get("doi")),
            "pmid": _s(rec.get("pmid")),
            "keywords": "; ".join(_list(rec.get("keywords")) + _list(rec.get("mesh_terms"))),
        }
        rows.append(row)
        entry = {
            "type_of_reference": "DBASE" if rid.startswith("ctgov:") else "JOUR",
            "id": rid,
            "title": row["title"],
            "authors": _list(rec.get("authors")),
            "abstract": row["abstract"],
            "journal_name": row["journal"],
            "volume": row["volume"],
            "number": row["issue"],
            "year": year,
            "doi": row["doi"],
            "urls": [row["url"]] if row["url"] else [],
            "keywords": _list(rec.get("keywords")) + _list(rec.get("mesh_terms")),
            "accession_number": row["pmid"],
            "notes": notes,
        }
        if pages:
            sp, _, ep = pages.partition("-")
            entry["start_page"] = sp
            if ep:
                entry["end_page"] = ep
        ris_entries.append({k: v for k, v in entry.items() if v not in ("", [], None)})
    if csv_path is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        _atomic_write(Path(csv_path), buf.getvalue())
    if ris_path is not None:
        import rispy

        _atomic_write(Path(ris_path), rispy.dumps(ris_entries))
    return rows


# --------------------------------------------------------------------------------- import


class _Matcher:
    """Maps a row of a tool's export to a reprisma record id."""

    def __init__(self, records=None):
        self.ids: set[str] = set()
        self.by_pmid: dict[str, str] = {}
        self.by_doi: dict[str, str] = {}
        if records is not None:
            df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
            for r in df.to_dict("records"):
                rid = str(r["record_id"])
                self.ids.add(rid)
                if r.get("pmid"):
                    self.by_pmid[str(r["pmid"])] = rid
                if r.get("doi"):
                    self.by_doi[_norm_doi(str(r["doi"]))] = rid

    def match(self, *, record_id=None, key=None, pmid=None, doi=None) -> str | None:
        for cand in (record_id, key):
            c = _s(cand).strip()
            if c and (not self.ids or c in self.ids):
                return c
        p = _s(pmid).strip()
        if p:
            if p in self.by_pmid:
                return self.by_pmid[p]
            if not self.ids:
                return f"pubmed:{p}"
        d = _norm_doi(_s(doi))
        if d and d in self.by_doi:
            return self.by_doi[d]
        return None


def _norm_doi(d: str) -> str:
    d = d.strip().lower()
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", d)


def _date_of(value, default: str | None, where: str) -> str:
    v = _s(value).strip()
    if v:
        m = re.match(r"^(\d{4}-\d{2}-\d{2})", v)
        if m:
            return m.group(1)
    if default:
        return default
    raise ValueError(f"{where}: no decision date in the export; pass date='YYYY-MM-DD'")


def _decision_row(rid, stage, reviewer, decision, reason, date, note) -> dict:
    return {
        "record_id": rid, "stage": stage, "reviewer": reviewer, "decision": decision,
        "reason": reason, "date": date, "note": note,
    }


def import_asreview(
    path: str | Path,
    *,
    reviewer: str,
    stage: str = "title_abstract",
    date: str | None = None,
    records=None,
    exclusion_reason: str | None = None,
) -> pd.DataFrame:
    """Decision rows from an ASReview LAB dataset export (CSV, TSV or RIS).

    Labelled records become ``include`` (label 1) or ``exclude`` (label 0); unlabelled
    ("not seen") records are skipped. ``date`` is used when the export has no
    ``asreview_time``; ``exclusion_reason`` is written on exclusions (ASReview has no reasons;
    full-text exclusions need one).
    """
    path = Path(path)
    out = []
    matcher = _Matcher(records)
    if path.suffix.lower() in (".ris", ".txt"):
        import rispy

        with open(path, encoding="utf-8-sig") as fh:
            entries = rispy.load(fh)
        for n, e in enumerate(entries, start=1):
            where = f"{path}: record {n}"
            notes = _list(e.get("notes"))
            label = None
            rid = None
            when = None
            for note in notes:
                if "ASReview_relevant" in note:
                    label = 1
                elif "ASReview_irrelevant" in note:
                    label = 0
                elif "ASReview_not_seen" in note:
                    label = None
                if note.startswith(NOTE_ID):
                    rid = note[len(NOTE_ID):].strip()
                if note.startswith("asreview_time:"):
                    try:
                        when = json.loads(note.split(":", 1)[1])
                    except ValueError:
                        when = note.split(":", 1)[1]
            if label is None:
                continue
            got = matcher.match(record_id=rid, key=e.get("id"), pmid=e.get("accession_number"), doi=e.get("doi"))
            if got is None:
                raise ValueError(f"{where} ({_s(e.get('title'))[:60]!r}): cannot match to a reprisma record")
            dec = "include" if label == 1 else "exclude"
            out.append(_decision_row(got, stage, reviewer, dec, exclusion_reason if dec == "exclude" else None,
                                     _date_of(when, date, where), "imported from ASReview LAB"))
    else:
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
        label_col = next((c for c in ("asreview_label", "included", "label_included") if c in df.columns), None)
        if label_col is None:
            raise ValueError(f"{path}: line 1: no asreview_label (or included) column")
        for i, r in enumerate(df.to_dict("records")):
            where = f"{path}: line {i + 2}"
            v = r[label_col].strip()
            if v in ("", "-1", "nan", "None"):
                continue
            if v not in ("0", "1", "0.0", "1.0"):
                raise ValueError(f"{where}: {label_col} must be 1, 0 or empty, got {v!r}")
            rid = r.get("record_id")
            if not rid:
                m = re.search(re.escape(NOTE_ID) + r"([^\s;,'\"\]]+)", r.get("notes", ""))
                rid = m.group(1) if m else None
            got = matcher.match(
                record_id=rid or r.get("id"), key=r.get("key"),
                pmid=r.get("pmid") or r.get("accession_number"), doi=r.get("doi"),
            )
            if got is None:
                raise ValueError(f"{where}: cannot match to a reprisma record ({r.get('title', '')[:60]!r})")
            dec = "include" if v.startswith("1") else "exclude"
            out.append(_decision_row(got, stage, reviewer, dec, exclusion_reason if dec == "exclude" else None,
                                     _date_of(r.get("asreview_time"), date, where), "imported from ASReview LAB"))
    return pd.DataFrame(out, columns=COLUMNS, dtype=object)


_RAYYAN_INCL = re.compile(r"RAYYAN-INCLUSION:\s*\{(.*?)\}")
_RAYYAN_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*"([^"]*)"')
_RAYYAN_REASONS = re.compile(r"RAYYAN-EXCLUSION-REASONS:\s*([^|]*)")


def parse_rayyan_notes(notes: str) -> dict:
    """``{"decisions": {reviewer: Included|Excluded|Maybe}, "reasons": [..]}`` from a Rayyan
    ``notes`` cell."""
    decisions = {}
    m = _RAYYAN_INCL.search(notes or "")
    if m:
        for name, value in _RAYYAN_PAIR.findall(m.group(1)):
            decisions[name] = value
    reasons = []
    m = _RAYYAN_REASONS.search(notes or "")
    if m:
        reasons = [x.strip() for x in m.group(1).split(",") if x.strip()]
    return {"decisions": decisions, "reasons": reasons}


_RAYYAN_DECISION = {"included": "include", "excluded": "exclude", "maybe": "maybe"}


def import_rayyan(
    path: str | Path,
    *,
    stage: str = "title_abstract",
    date: str,
    records=None,
    reviewers: Mapping[str, str] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Decision rows from Rayyan's CSV export (one row per record and reviewer).

    ``date``: Rayyan's CSV carries no decision dates, so the import date must be given.
    ``reviewers``: map Rayyan user names to reprisma reviewer names (default: the name with
    spaces replaced by ``_``). ``reasons``: map Rayyan exclusion reasons to the protocol's list
    (default: unchanged). Several reasons on one record: the first is the ``reason``, all are
    kept in ``note``. Records without a decision are skipped.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "notes" not in df.columns:
        raise ValueError(f"{path}: line 1: no 'notes' column (is this Rayyan's CSV export?)")
    matcher = _Matcher(records)
    reviewers = dict(reviewers or {})
    reasons_map = dict(reasons or {})
    out = []
    for i, r in enumerate(df.to_dict("records")):
        where = f"{path}: line {i + 2}"
        parsed = parse_rayyan_notes(r["notes"])
        if not parsed["decisions"]:
            continue
        got = matcher.match(
            record_id=r.get("record_id"), key=r.get("key"),
            pmid=r.get("pubmed_id") or r.get("pmid"), doi=r.get("doi"),
        )
        if got is None:
            raise ValueError(f"{where}: cannot match to a reprisma record ({r.get('title', '')[:60]!r})")
        rs = [reasons_map.get(x, x) for x in parsed["reasons"]]
        for name, value in sorted(parsed["decisions"].items()):
            dec = _RAYYAN_DECISION.get(value.strip().lower())
            if dec is None:
                raise ValueError(f"{where}: unknown Rayyan decision {value!r} for {name!r}")
            who = reviewers.get(name, re.sub(r"\s+", "_", name.strip()))
            reason = rs[0] if (dec == "exclude" and rs) else None
            note = "imported from Rayyan" + (f"; reasons: {', '.join(rs)}" if dec == "exclude" and len(rs) > 1 else "")
            out.append(_decision_row(got, stage, who, dec, reason, date, note))
    return pd.DataFrame(out, columns=COLUMNS, dtype=object)
