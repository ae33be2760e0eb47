"""ClinicalTrials.gov API v2 JSON -> records.

Input: one search page (``{"studies": [...], "nextPageToken": ..., "totalCount": ...}``) or one
study object (``GET /api/v2/studies/<NCT>``: ``{"protocolSection": ...}``), gzip or not.

Field rules:

* title = ``briefTitle`` (what the register lists and people cite; ``officialTitle`` only when a
  study has no brief title); abstract = ``briefSummary``. Runs of whitespace (its paragraph
  breaks) become one space, as for PubMed abstracts.
* year and pub_date come from ``startDateStruct`` (when the study began, the date that places a
  trial among publications); ``start_date``, ``completion_date`` and ``first_posted_date`` are
  kept as given (ISO partial dates; anything else becomes None). Eligibility by date uses the
  protocol's ``eligibility.registry_date_field`` (default ``first_posted_date``).
* nct_ids: the study's NCT number, its ``nctIdAliases`` (obsolete numbers merged into it) and any
  ``secondaryIdInfos`` id that is an NCT number; sorted, unique.
* results_pmids: the PMIDs of ``referencesModule.references`` whose ``type`` is ``RESULT`` (the
  registrant's or NLM's "results reference": a publication reporting the trial's results);
  background and derived references are not listed. Sorted, unique.
* mesh_terms: the MeSH terms CT.gov derived for conditions and interventions
  (``derivedSection`` browse modules), when the response has them; keywords: ``conditionsModule.keywords``.
* authors [], journal None, doi None, languages [].

A search page is decoded study by study with the standard library's ``json`` decoder, so memory
holds one study at a time: the capture asks for up to 1000 full studies a page, and one study with
results can be over a megabyte (NCT02513394 in the fixtures is 1.5 MB).
Malformed JSON fails with path, line and column (1-based, as ``json.JSONDecodeError`` counts).
"""

from __future__ import annotations

from typing import Iterator

from reprisma.records.errors import RawResponseError
from reprisma.records.jsonstream import JsonObjectReader
from reprisma.records.normalise import NCT_RE, iso_or_none, squash
from reprisma.records.rawio import display_name, open_raw
from reprisma.records.schema import new_record


def iter_ctgov_records(stream_or_path, *, raw_file: str, search_ids: list[str]) -> Iterator[dict]:
    """Records of one CT.gov v2 response (search page or single study), in file order.

    A search page is decoded one study at a time (see ``jsonstream``), so a page of 1000 full
    studies never sits in memory at once. Raises ``RawResponseError`` (path, line, column, what)
    on malformed JSON or on JSON that is neither a search page nor a study.
    """
    name = display_name(stream_or_path, raw_file)
    ids = sorted(set(search_ids))
    with open_raw(stream_or_path) as f:
        reader = JsonObjectReader(f, name)
        top: dict = {}
        n = 0
        for key, value in reader.members(stream_key="studies"):
            if key == "studies[]":
                yield study_record(value, raw_file=raw_file, search_ids=ids, name=name, where=f"studies[{n}]")
                n += 1
            else:
                top[key] = value
    if "studies" in top and not isinstance(top["studies"], list):
        raise RawResponseError(name, 1, 1, "\"studies\" is not a list")
    if not reader.saw_stream:
        if "protocolSection" not in top:
            raise RawResponseError(name, 1, 1, "neither a CT.gov v2 search page ({\"studies\": [...]}) "
                                               "nor a study object ({\"protocolSection\": ...})")
        yield study_record(top, raw_file=raw_file, search_ids=ids, name=name, where="study")


def _get(obj, *path):
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _strings(values) -> list[str]:
    out: list[str] = []
    for v in values:
        s = squash(v) if isinstance(v, str) else ""
        if s and s not in out:
            out.append(s)
    return out


def study_record(study: dict, *, raw_file: str, search_ids: list[str], name: str = "", where: str = "study") -> dict:
    """One v2 study object as a record."""
    ps = _get(study, "protocolSection")
    nct = _get(ps, "identificationModule", "nctId")
    if not isinstance(nct, str) or not NCT_RE.match(nct.strip()):
        raise RawResponseError(name or raw_file, None, None,
                               f"{where}: protocolSection.identificationModule.nctId is missing or not an NCT number "
                               f"({nct!r})")
    nct = nct.strip()
    ident = ps["identificationModule"]
    status = _get(ps, "statusModule") or {}
    design = _get(ps, "designModule") or {}

    nct_ids = {nct}
    for alias in _list(ident.get("nctIdAliases")):
        if isinstance(alias, str) and NCT_RE.match(alias.strip()):
            nct_ids.add(alias.strip())
    for sec in _list(ident.get("secondaryIdInfos")):
        sid = _get(sec, "id")
        if isinstance(sid, str) and NCT_RE.match(sid.strip().upper()):
            nct_ids.add(sid.strip().upper())

    results_pmids = sorted({ref["pmid"].strip() for ref in _list(_get(ps, "referencesModule", "references"))
                            if isinstance(ref, dict) and ref.get("type") == "RESULT"
                            and isinstance(ref.get("pmid"), str) and ref["pmid"].strip().isdigit()}, key=int)
    start = iso_or_none(_get(status, "startDateStruct", "date"))
    count = _get(design, "enrollmentInfo", "count")
    enrollment = int(count) if isinstance(count, (int, float)) and not isinstance(count, bool) else None
    mesh = [_get(m, "term") for m in _list(_get(study, "derivedSection", "conditionBrowseModule", "meshes"))]
    mesh += [_get(m, "term") for m in _list(_get(study, "derivedSection", "interventionBrowseModule", "meshes"))]

    return new_record(
        record_id=f"ctgov:{nct}",
        source="ctgov",
        search_ids=list(search_ids),
        raw_file=raw_file,
        nct_ids=sorted(nct_ids),
        results_pmids=results_pmids,
        title=squash(ident.get("briefTitle")) or squash(ident.get("officialTitle")),
        abstract=squash(_get(ps, "descriptionModule", "briefSummary")) or None,
        year=int(start[:4]) if start else None,
        pub_date=start,
        overall_status=status.get("overallStatus") or None,
        study_type=design.get("studyType") or None,
        phases=_strings(_list(design.get("phases"))),
        conditions=_strings(_list(_get(ps, "conditionsModule", "conditions"))),
        keywords=_strings(_list(_get(ps, "conditionsModule", "keywords"))),
        interventions=_strings(_get(i, "name") for i in _list(_get(ps, "armsInterventionsModule", "interventions"))),
        mesh_terms=_strings(mesh),
        start_date=start,
        completion_date=iso_or_none(_get(status, "completionDateStruct", "date")),
        first_posted_date=iso_or_none(_get(status, "studyFirstPostDateStruct", "date")),
        enrollment=enrollment,
    )
