"""Exchange with screening tools: export what is left to screen, import their decisions.

Export (:func:`export_for_screening`): the unscreened records in ranking order, as

* CSV with the column names Rayyan's CSV import documents (``key, title, authors, journal, issn,
  volume, issue, pages, year, publisher, url, abstract, notes``) plus ``rank``, ``record_id``,
  ``doi``, ``pmid``, ``keywords`` and ``screening_status`` (empty, or why a record someone
  already decided still waits: ``decided by ana; awaiting a second reviewer``,
  ``conflict: ana=include;ben=exclude``). ASReview LAB reads ``title``, ``abstract``, ``authors``,
  ``keywords``, ``doi``, ``url``, ``year`` from it and keeps every other column in its export;
* RIS (rispy; EndNote, Zotero, Rayyan and ASReview LAB import it): ``TY``, ``TI``, ``AU``, ``AB``,
  ``JO``, ``VL``, ``IS``, ``SP``/``EP``, ``PY``, ``DO``, ``UR``, ``KW``, ``AN`` (PMID), ``ID``
  (reprisma record id) and ``N1`` notes ``reprisma_record_id: <id>``, ``reprisma_rank: <n>`` (and
  ``reprisma_status: ...`` when not empty), which ASReview carries through to its export; the
  record id is read back from it.

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

from reprisma.errors import ReprismaError
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
    "year", "publisher", "url", "abstract", "notes", "doi", "pmid", "keywords", "screening_status",
]
NOTE_STATUS = "reprisma_status: "
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
    if "screening_status" in rk.columns:
        for rec, status in zip(out, rk["screening_status"]):
            rec["screening_status"] = status
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
        status = _s(rec.get("screening_status"))
        notes = [f"{NOTE_ID}{rid}", f"{NOTE_RANK}{rec['rank']}"] + ([f"{NOTE_STATUS}{status}"] if status else [])
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
            "screening_status": status,
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


class ExportFileError(ReprismaError, ValueError):
    """Problems in a screening tool's export; ``problems`` lists them (file, line, message)."""

    def __init__(self, path, problems):
        self.problems = sorted(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the export {path}:"
        super().__init__("\n".join([head] + [f"  {p}" for p in self.problems]))


def _problem(path, line: int, message: str):
    from reprisma.screen.decisions import Problem

    return Problem(str(path), int(line), message)


def _read_text(path: Path) -> str:
    """The export's text: UTF-8 (with or without BOM) or UTF-16 with BOM (Excel's "Unicode
    text"), newlines made LF; errors name the file, the line and the byte
    (:mod:`reprisma.textfile`). An Excel workbook is refused with what to do instead."""
    from reprisma.textfile import read_text

    try:
        with open(path, "rb") as fh:
            if fh.read(4) == b"PK\x03\x04":
                raise ValueError(f"{path}: this is a ZIP file such as an Excel workbook (.xlsx), not a text "
                                 "export; export CSV, TSV or RIS instead")
    except OSError:
        pass  # read_text says what is wrong with the file
    return read_text(path, utf16=True)


def _read_table(path: Path) -> tuple[list[str], list[tuple[int, dict]], list]:
    """Header, rows as (line where the row starts, {column: value}) and per-row problems of a CSV
    (TSV for ``.tsv``/``.tab``). Line numbers are physical lines: a quoted abstract spanning
    several lines counts them all."""
    text = _read_text(path)
    if not text.strip():
        raise ValueError(f"{path}: empty file (no header row)")
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, dict]] = []
    problems = []
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                continue
            if len(cells) != len(header):
                problems.append(_problem(path, line, f"expected {len(header)} fields (as in the header), "
                                                     f"found {len(cells)}"))
                continue
            rows.append((line, dict(zip(header, cells))))
    except csv.Error as exc:
        raise ValueError(f"{path}: line {start}: malformed {'TSV' if delimiter == chr(9) else 'CSV'} "
                         f"({exc}); a quoted field that starts here may not be closed") from None
    return header or [], rows, problems


def _ris_entries(path: Path) -> list[tuple[int, dict]]:
    """(line of the ``TY`` tag, rispy entry) for every record of a RIS file. A record without its
    ``ER`` end tag (a truncated file) or a file without records is an error."""
    import rispy

    # rispy splits at LF only: number the lines the same way (str.splitlines() would also split at
    # U+2028 inside an abstract); old Mac files end lines with CR alone
    text = _read_text(path).replace("\r\n", "\n").replace("\r", "\n")
    starts, problems, open_at = [], [], None
    for n, line in enumerate(text.split("\n"), start=1):
        if re.match(r"^TY  -", line):
            if open_at is not None:
                problems.append(_problem(path, open_at, f"record has no 'ER  -' end tag before the next "
                                                        f"record (line {n})"))
            open_at = n
            starts.append(n)
        elif re.match(r"^ER  -", line):
            if open_at is None:
                problems.append(_problem(path, n, "'ER  -' end tag without a record ('TY  -') before it"))
            open_at = None
    if open_at is not None:
        problems.append(_problem(path, open_at, "record has no 'ER  -' end tag (is the file truncated?)"))
    if problems:
        raise ExportFileError(path, problems)
    if not starts:
        raise ValueError(f"{path}: no RIS record (no line starts with 'TY  -'); is this a RIS export?")
    entries = rispy.loads(text)
    if len(entries) != len(starts):  # pragma: no cover - rispy and the scan above disagree
        raise ValueError(f"{path}: {len(starts)} 'TY  -' lines but rispy read {len(entries)} records")
    return list(zip(starts, entries))


class _Matcher:
    """Maps a row of a tool's export to a reprisma record id.

    With ``records``, only their ids are accepted: a reprisma id (``record_id`` column or note),
    the tool's ``key`` when it is a reprisma id (Rayyan keeps the key of the imported CSV), then
    the PMID, the DOI, or a PubMed/doi.org URL. Without ``records`` an id is taken as given.
    """

    def __init__(self, records=None):
        self.ids: set[str] = set()
        self.by_pmid: dict[str, str] = {}
        self.by_doi: dict[str, str] = {}
        if records is not None:
            df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
            for r in df.to_dict("records"):
                rid = str(r["record_id"])
                self.ids.add(rid)
                if _s(r.get("pmid")):
                    self.by_pmid.setdefault(_s(r["pmid"]), rid)
                if _s(r.get("doi")):
                    self.by_doi.setdefault(_norm_doi(_s(r["doi"])), rid)

    def match(self, *, record_id=None, key=None, pmid=None, doi=None, urls=()) -> str | None:
        for cand in (record_id, key):
            c = _s(cand).strip()
            if c and (not self.ids or c in self.ids):
                return c
        p = _s(pmid).strip()
        d = _norm_doi(_s(doi))
        for url in _list(urls):
            m = re.search(r"pubmed\.ncbi\.nlm\.nih\.gov/(\d+)|ncbi\.nlm\.nih\.gov/pubmed/(\d+)", url)
            if m and not p:
                p = m.group(1) or m.group(2)
            if re.match(r"^https?://(dx\.)?doi\.org/", url.strip().lower()) and not d:
                d = _norm_doi(url)
        if p:
            if p in self.by_pmid:
                return self.by_pmid[p]
            if not self.ids:
                return f"pubmed:{p}"
        if d and d in self.by_doi:
            return self.by_doi[d]
        return None


def _norm_doi(d: str) -> str:
    d = d.strip().lower()
    return re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", d)


def _date_of(value, default: str | None) -> str | None:
    """The ISO date an export gives (``asreview_time`` is an ISO timestamp), else ``default``."""
    from reprisma.screen.eligibility import is_iso_day

    day = _s(value).strip()[:10]
    return day if is_iso_day(day) else default


def _decision_row(rid, stage, reviewer, decision, reason, date, note, path, line) -> dict:
    return {
        "record_id": rid, "stage": stage, "reviewer": reviewer, "decision": decision,
        "reason": reason, "date": date, "note": note, "file": str(path), "line": int(line),
    }


def _rows_frame(out: list[dict], problems: list, path: Path, sink: list | None) -> pd.DataFrame:
    """The rows; the per-row problems go to ``sink`` when given, else they are raised."""
    if sink is not None:
        sink.extend(problems)
    elif problems:
        raise ExportFileError(path, problems)
    return pd.DataFrame(out, columns=COLUMNS + ["file", "line"], dtype=object)


def import_asreview(
    path: str | Path,
    *,
    reviewer: str,
    stage: str = "title_abstract",
    date: str | None = None,
    records=None,
    exclusion_reason: str | None = None,
    problems: list | None = None,
) -> pd.DataFrame:
    """Decision rows from an ASReview LAB dataset export (CSV, TSV or RIS).

    Labelled records become ``include`` (label 1) or ``exclude`` (label 0); unlabelled
    ("not seen") records are skipped. ``date`` is used when the export has no
    ``asreview_time``; ``exclusion_reason`` is written on exclusions (ASReview has no reasons;
    full-text exclusions need one). The rows carry ``file`` and ``line`` (where in the export
    each decision came from); every row that cannot be read or matched is reported at once
    (:class:`ExportFileError`), or appended to ``problems`` when a list is given (the rows that
    could be read are then returned).
    """
    path = Path(path)
    sink = problems
    out, problems = [], []
    matcher = _Matcher(records)
    note_text = "imported from ASReview LAB"

    def add(line, label, rid, when, *, key=None, pmid=None, doi=None, urls=(), title=""):
        got = matcher.match(record_id=rid, key=key, pmid=pmid, doi=doi, urls=urls)
        if got is None:
            problems.append(_problem(path, line, f"cannot match to a reprisma record ({_s(title)[:60]!r}; "
                                                 "no known record_id, PMID or DOI)"))
            return
        day = _date_of(when, date)
        if day is None:
            problems.append(_problem(path, line, f"no decision date in the export ({_s(when)!r}); "
                                                 "pass --date YYYY-MM-DD"))
            return
        dec = "include" if label == 1 else "exclude"
        out.append(_decision_row(got, stage, reviewer, dec, exclusion_reason if dec == "exclude" else None,
                                 day, note_text, path, line))

    if path.suffix.lower() in (".ris", ".txt"):
        for line, e in _ris_entries(path):
            notes = _list(e.get("notes"))
            label = rid = when = None
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
            add(line, label, rid, when, key=e.get("id"), pmid=e.get("accession_number"), doi=e.get("doi"),
                urls=e.get("urls"), title=e.get("title") or e.get("primary_title"))
        return _rows_frame(out, problems, path, sink)

    header, rows, problems = _read_table(path)
    label_col = next((c for c in ("asreview_label", "included", "label_included") if c in header), None)
    if label_col is None:
        raise ValueError(f"{path}: line 1: no asreview_label (or included) column; is this ASReview LAB's "
                         "'Export dataset' file?")
    for line, r in rows:
        v = (r.get(label_col) or "").strip()
        if v in ("", "-1", "nan", "None"):
            continue
        if v not in ("0", "1", "0.0", "1.0"):
            problems.append(_problem(path, line, f"{label_col} must be 1, 0 or empty, got {v!r}"))
            continue
        rid = r.get("record_id")
        if not rid:
            m = re.search(re.escape(NOTE_ID) + r"([^\s;,'\"\]]+)", r.get("notes", ""))
            rid = m.group(1) if m else None
        add(line, 1 if v.startswith("1") else 0, rid or r.get("id"), r.get("asreview_time"), key=r.get("key"),
            pmid=r.get("pmid") or r.get("accession_number") or r.get("pubmed_id"), doi=r.get("doi"),
            urls=[r.get("url", "")], title=r.get("title", ""))
    return _rows_frame(out, problems, path, sink)


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
    problems: list | None = None,
) -> pd.DataFrame:
    """Decision rows from Rayyan's CSV export (one row per record and reviewer).

    The export's layout is Rayyan's (``key, title, authors, journal, issn, volume, issue, pages,
    year, publisher, location, url, language, abstract, notes``; newer exports add columns such
    as ``pubmed_id`` and ``doi``, which are used when present); the decisions are in ``notes``.
    ``date``: Rayyan's CSV carries no decision dates, so the import date must be given.
    ``reviewers``: map Rayyan user names to reprisma reviewer names (default: the name with
    spaces replaced by ``_``). ``reasons``: map Rayyan exclusion reasons to the protocol's list
    (default: unchanged). Several reasons on one record: the first is the ``reason``, all are
    kept in ``note``. Records without a decision are skipped. The rows carry ``file`` and
    ``line``; every problem is reported at once (:class:`ExportFileError`), or appended to
    ``problems`` when a list is given.
    """
    path = Path(path)
    sink = problems
    header, rows, problems = _read_table(path)
    if "notes" not in header:
        raise ValueError(f"{path}: line 1: no 'notes' column (is this Rayyan's CSV export?)")
    matcher = _Matcher(records)
    reviewers = dict(reviewers or {})
    reasons_map = dict(reasons or {})
    out = []
    for line, r in rows:
        parsed = parse_rayyan_notes(r["notes"])
        if not parsed["decisions"]:
            continue
        got = matcher.match(
            record_id=r.get("record_id"), key=r.get("key"),
            pmid=r.get("pubmed_id") or r.get("pmid"), doi=r.get("doi"), urls=[r.get("url", "")],
        )
        if got is None:
            problems.append(_problem(path, line, f"cannot match to a reprisma record "
                                                 f"({r.get('title', '')[:60]!r}; no known key, PMID or DOI)"))
            continue
        rs = [reasons_map.get(x, x) for x in parsed["reasons"]]
        for name, value in sorted(parsed["decisions"].items()):
            dec = _RAYYAN_DECISION.get(value.strip().lower())
            if dec is None:
                problems.append(_problem(path, line, f"unknown Rayyan decision {value!r} for {name!r} "
                                                     "(expected Included, Excluded or Maybe)"))
                continue
            who = reviewers.get(name, re.sub(r"\s+", "_", name.strip()))
            reason = rs[0] if (dec == "exclude" and rs) else None
            note = "imported from Rayyan" + (f"; reasons: {', '.join(rs)}" if dec == "exclude" and len(rs) > 1 else "")
            out.append(_decision_row(got, stage, who, dec, reason, date, note, path, line))
    return _rows_frame(out, problems, path, sink)


def check_imported(rows: pd.DataFrame, settings, recorded: pd.DataFrame | None = None,
                   aliases: Mapping[str, str] | None = None,
                   not_screened: Mapping[str, str] | None = None) -> list:
    """The problems the imported ``rows`` would cause at the next run, located in the export
    (each row's ``file`` and ``line``): the decisions schema (reviewer name, date, a full-text
    exclusion without reason), reasons outside the protocol's list, and, checked together with
    the decisions already ``recorded`` (rows of :func:`reprisma.screen.decisions.read_decision_files`),
    duplicates (the same export imported twice) and full-text decisions without a title/abstract
    decision. ``aliases`` and ``not_screened`` (see :func:`reprisma.screen.decisions.screening_ids`)
    let a row on a duplicate's id meet the rows on its cluster and refuse records that automation
    excluded or reviewers removed before screening."""
    from reprisma.screen.decisions import _validator, row_problems, validate_decisions

    validator = _validator()
    problems = [_problem(r["file"], r["line"], m) for r in rows.to_dict("records") for m in row_problems(r, validator)]
    both = rows if recorded is None or recorded.empty else pd.concat([recorded, rows], ignore_index=True)
    exported = set(rows["file"])
    problems += [p for p in validate_decisions(both, settings, aliases=aliases, not_screened=not_screened)
                 if p.file in exported]
    return sorted(set(problems))


def split_recorded(rows: pd.DataFrame, recorded: pd.DataFrame | None,
                   aliases: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, int, list]:
    """Compare imported rows with the decisions already recorded: ASReview and Rayyan export every
    label made so far, so a grown export repeats earlier ones. Returns the rows not yet recorded,
    how many are recorded with the same decision and reason (skipped), and a problem for each row
    that the record holds with another decision (recorded decisions are changed by hand, never
    by an import)."""
    if recorded is None or recorded.empty or rows.empty:
        return rows, 0, []
    alias = dict(aliases or {})

    def key(rid, stage, reviewer):
        return alias.get(rid, rid), stage, reviewer

    have: dict = {}
    for r in recorded.itertuples(index=False):
        have.setdefault(key(r.record_id, r.stage, r.reviewer), r)
    keep, same, problems = [], 0, []
    for r in rows.to_dict("records"):
        old = have.get(key(r["record_id"], r["stage"], r["reviewer"]))
        if old is None:
            keep.append(r)
        elif old.decision == r["decision"] and (old.reason or None) == (r["reason"] or None):
            same += 1
        else:
            was = old.decision + (f" ({old.reason})" if old.reason else "")
            now = r["decision"] + (f" ({r['reason']})" if r["reason"] else "")
            problems.append(_problem(
                r["file"], r["line"],
                f"{r['reviewer']}'s {r['stage']} decision on {r['record_id']!r} is recorded as {was} at "
                f"{old.file}:{old.line}, the export says {now}; if the reviewer changed their mind, edit "
                "the recorded row (an import never changes a recorded decision)"))
    return pd.DataFrame(keep, columns=rows.columns, dtype=object), same, problems
