"""Loopback emulator of the ClinicalTrials.gov REST API v2 (``https://clinicaltrials.gov/api/v2``).

Endpoints: ``GET /api/v2/studies``, ``GET /api/v2/studies/{nctId}``, ``GET /api/v2/version``.
Parameters, defaults and limits follow the official OpenAPI document
(``tests/fixtures/clinicaltrials/openapi/ctg-oas-v2.yaml``, API 2.0.5): ``pageSize`` default 10,
0 means the default, values above 1,000 are coerced down to 1,000 (also confirmed live by a public
guide, 2026-09-29); ``pageToken`` is opaque; ``countTotal=true`` adds ``totalCount`` to the first
page only; ``filter.overallStatus``/``filter.ids``/``fields``/``sort`` take comma- or
pipe-separated lists. The page body is compact JSON with the keys in the order of the genuine
capture ``search_phelan_limit5_20260811.json``: ``studies``, ``totalCount``, ``nextPageToken``.

Query matching is the simple Essie subset of :mod:`reprisma.emulator.ctgov_query` (no synonym
expansion or stemming, no relevance ranking). Default order: NCT id ascending (the spec says
results are "not sorted by default"; the emulator makes that order deterministic). ``sort``
accepts date pieces (default ``desc``), ``EnrollmentCount`` (default ``asc``) and ``@relevance``
(= default order); studies missing the sort field come last, as the spec says.

Error bodies are ``text/plain`` (the spec's ``errorMessage`` type). Sourced wordings:
``\\`filter.phase\\` is unknown parameter`` (HTTP 400, quoted from the live API in Biomni PR #328
and a 2026-09-29 guide), ``Parameter 'fields' contains invalid field name: 'StudyDesign'``
(cyanheads/clinicaltrialsgov-mcp-server issue #17) and ``Invalid value in parameter
overallStatus`` (2026-09-29 guide). No genuine body was found for a bad ``pageSize``,
``pageToken``, ``countTotal``, ``sort`` or ``filter.ids`` value, a malformed NCT id (400) or an
unknown one (404): those messages follow the same pattern and are the emulator's own.

Not emulated: ``format=csv`` (and the ``x-next-page-token``/``x-total-count`` headers),
``/studies/metadata``, ``/studies/search-areas``, ``/studies/enums``, ``/stats/*``,
``filter.geo``/``geoDecay``/``filter.synonyms``/``aggFilters`` (answered 400 saying so), NCT id
aliases (301 redirects), the rule that filters are ignored when a query holds only NCT ids,
``markupFormat=legacy`` (text is served as stored).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct

from . import ctgov_query as eq
from .corpus import Corpus, CtgovStudy
from .faults import Fault
from .server import LoopbackEmulator, Response

__all__ = ["CtgovEmulator", "DEFAULT_DATA_TIMESTAMP", "API_VERSION"]

API_VERSION = "2.0.5"
# An arbitrary fixed default (not a capture): the day the cyanheads study files were versioned.
DEFAULT_DATA_TIMESTAMP = "2025-06-16T00:00:00"
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain"
NCT_PATTERN = re.compile(r"^[Nn][Cc][Tt]0*[1-9]\d{0,7}$")
STATUSES = ("ACTIVE_NOT_RECRUITING", "COMPLETED", "ENROLLING_BY_INVITATION", "NOT_YET_RECRUITING", "RECRUITING",
            "SUSPENDED", "TERMINATED", "WITHDRAWN", "AVAILABLE", "NO_LONGER_AVAILABLE",
            "TEMPORARILY_NOT_AVAILABLE", "APPROVED_FOR_MARKETING", "WITHHELD", "UNKNOWN")
STUDIES_PARAMS = {
    "format", "markupFormat", "query.cond", "query.term", "query.locn", "query.titles", "query.intr",
    "query.outc", "query.spons", "query.lead", "query.id", "query.patient", "filter.overallStatus",
    "filter.geo", "filter.ids", "filter.advanced", "filter.synonyms", "postFilter.overallStatus",
    "postFilter.geo", "postFilter.ids", "postFilter.advanced", "postFilter.synonyms", "aggFilters",
    "geoDecay", "fields", "sort", "countTotal", "pageSize", "pageToken",
}
UNSUPPORTED = {"filter.geo", "postFilter.geo", "filter.synonyms", "postFilter.synonyms", "aggFilters", "geoDecay"}
STUDY_PARAMS = {"format", "markupFormat", "fields"}
QUERY_AREAS = {"query.cond": "cond", "query.term": "term", "query.locn": "locn", "query.titles": "titles",
               "query.intr": "intr", "query.outc": "outc", "query.spons": "spons", "query.lead": "lead",
               "query.id": "id", "query.patient": "term"}
PAGE_PARAMS = {"countTotal", "pageSize", "pageToken"}

_P = ("protocolSection",)
_SECTIONS = {
    "protocolSection": ["identificationModule", "statusModule", "sponsorCollaboratorsModule", "oversightModule",
                        "descriptionModule", "conditionsModule", "designModule", "armsInterventionsModule",
                        "outcomesModule", "eligibilityModule", "contactsLocationsModule", "referencesModule",
                        "ipdSharingStatementModule"],
    "resultsSection": ["participantFlowModule", "baselineCharacteristicsModule", "outcomeMeasuresModule",
                       "adverseEventsModule", "moreInfoModule"],
    "annotationSection": ["annotationModule"],
    "documentSection": ["largeDocumentModule"],
    "derivedSection": ["miscInfoModule", "conditionBrowseModule", "interventionBrowseModule"],
}
PIECES: dict[str, tuple[str, ...]] = {
    "NCTId": _P + ("identificationModule", "nctId"),
    "NCTIdAlias": _P + ("identificationModule", "nctIdAliases"),
    "OrgStudyId": _P + ("identificationModule", "orgStudyInfo", "id"),
    "SecondaryId": _P + ("identificationModule", "secondaryIdInfos", "id"),
    "BriefTitle": _P + ("identificationModule", "briefTitle"),
    "OfficialTitle": _P + ("identificationModule", "officialTitle"),
    "Acronym": _P + ("identificationModule", "acronym"),
    "Organization": _P + ("identificationModule", "organization"),
    "OverallStatus": _P + ("statusModule", "overallStatus"),
    "LastKnownStatus": _P + ("statusModule", "lastKnownStatus"),
    "WhyStopped": _P + ("statusModule", "whyStopped"),
    "StatusVerifiedDate": _P + ("statusModule", "statusVerifiedDate"),
    "StartDate": _P + ("statusModule", "startDateStruct"),
    "PrimaryCompletionDate": _P + ("statusModule", "primaryCompletionDateStruct"),
    "CompletionDate": _P + ("statusModule", "completionDateStruct"),
    "StudyFirstSubmitDate": _P + ("statusModule", "studyFirstSubmitDate"),
    "StudyFirstPostDate": _P + ("statusModule", "studyFirstPostDateStruct"),
    "ResultsFirstPostDate": _P + ("statusModule", "resultsFirstPostDateStruct"),
    "LastUpdateSubmitDate": _P + ("statusModule", "lastUpdateSubmitDate"),
    "LastUpdatePostDate": _P + ("statusModule", "lastUpdatePostDateStruct"),
    "LeadSponsor": _P + ("sponsorCollaboratorsModule", "leadSponsor"),
    "LeadSponsorName": _P + ("sponsorCollaboratorsModule", "leadSponsor", "name"),
    "LeadSponsorClass": _P + ("sponsorCollaboratorsModule", "leadSponsor", "class"),
    "Collaborator": _P + ("sponsorCollaboratorsModule", "collaborators"),
    "CollaboratorName": _P + ("sponsorCollaboratorsModule", "collaborators", "name"),
    "ResponsibleParty": _P + ("sponsorCollaboratorsModule", "responsibleParty"),
    "BriefSummary": _P + ("descriptionModule", "briefSummary"),
    "DetailedDescription": _P + ("descriptionModule", "detailedDescription"),
    "Condition": _P + ("conditionsModule", "conditions"),
    "Keyword": _P + ("conditionsModule", "keywords"),
    "StudyType": _P + ("designModule", "studyType"),
    "Phase": _P + ("designModule", "phases"),
    "DesignInfo": _P + ("designModule", "designInfo"),
    "DesignAllocation": _P + ("designModule", "designInfo", "allocation"),
    "DesignPrimaryPurpose": _P + ("designModule", "designInfo", "primaryPurpose"),
    "DesignInterventionModel": _P + ("designModule", "designInfo", "interventionModel"),
    "EnrollmentInfo": _P + ("designModule", "enrollmentInfo"),
    "EnrollmentCount": _P + ("designModule", "enrollmentInfo", "count"),
    "EnrollmentType": _P + ("designModule", "enrollmentInfo", "type"),
    "ArmGroup": _P + ("armsInterventionsModule", "armGroups"),
    "Intervention": _P + ("armsInterventionsModule", "interventions"),
    "InterventionName": _P + ("armsInterventionsModule", "interventions", "name"),
    "InterventionType": _P + ("armsInterventionsModule", "interventions", "type"),
    "InterventionOtherName": _P + ("armsInterventionsModule", "interventions", "otherNames"),
    "PrimaryOutcome": _P + ("outcomesModule", "primaryOutcomes"),
    "SecondaryOutcome": _P + ("outcomesModule", "secondaryOutcomes"),
    "EligibilityCriteria": _P + ("eligibilityModule", "eligibilityCriteria"),
    "HealthyVolunteers": _P + ("eligibilityModule", "healthyVolunteers"),
    "Sex": _P + ("eligibilityModule", "sex"),
    "MinimumAge": _P + ("eligibilityModule", "minimumAge"),
    "MaximumAge": _P + ("eligibilityModule", "maximumAge"),
    "StdAge": _P + ("eligibilityModule", "stdAges"),
    "CentralContact": _P + ("contactsLocationsModule", "centralContacts"),
    "OverallOfficial": _P + ("contactsLocationsModule", "overallOfficials"),
    "Location": _P + ("contactsLocationsModule", "locations"),
    "LocationFacility": _P + ("contactsLocationsModule", "locations", "facility"),
    "LocationCity": _P + ("contactsLocationsModule", "locations", "city"),
    "LocationState": _P + ("contactsLocationsModule", "locations", "state"),
    "LocationCountry": _P + ("contactsLocationsModule", "locations", "country"),
    "LocationGeoPoint": _P + ("contactsLocationsModule", "locations", "geoPoint"),
    "Reference": _P + ("referencesModule", "references"),
    "HasResults": ("hasResults",),
}
for _section, _modules in _SECTIONS.items():
    PIECES[_section[0].upper() + _section[1:]] = (_section,)
    for _module in _modules:
        PIECES[_module[0].upper() + _module[1:]] = (_section, _module)
SORT_DATES = {"StartDate", "PrimaryCompletionDate", "CompletionDate", "StudyFirstPostDate", "ResultsFirstPostDate",
              "LastUpdatePostDate", "StudyFirstSubmitDate", "LastUpdateSubmitDate"}
SORT_NUMBERS = {"EnrollmentCount"}


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _split_list(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[,|]", value) if v.strip()]


def _norm_nct(value: str) -> str:
    return "NCT" + str(int(value[3:])).zfill(8)


def _field_path(name: str) -> tuple[str, ...]:
    if name in PIECES:
        return PIECES[name]
    if "." in name and all(re.fullmatch(r"[a-zA-Z][a-zA-Z0-9]*", p) for p in name.split(".")):
        return tuple(name.split("."))
    raise BadRequest(f"Parameter 'fields' contains invalid field name: '{name}'")


def _select(obj, trie: dict | None):
    """The parts of ``obj`` on the paths of ``trie`` (nested dicts; None = the whole subtree)."""
    if trie is None:
        return obj
    if isinstance(obj, list):
        out = [_select(x, trie) for x in obj]
        return [x for x in out if x not in (None, {}, [])]
    if not isinstance(obj, dict):
        return None
    out = {}
    for k, v in obj.items():
        if k in trie:
            sub = _select(v, trie[k])
            if sub is not None and sub != {} and sub != []:
                out[k] = sub
    return out


def _build_trie(paths: list[tuple[str, ...]]) -> dict:
    trie: dict = {}
    for path in paths:
        node = trie
        for i, part in enumerate(path):
            if part in node and node[part] is None:
                break  # an ancestor is already selected whole
            if i == len(path) - 1:
                node[part] = None
            else:
                node = node.setdefault(part, {})
    return trie


def _sort_value(study: CtgovStudy, piece: str):
    if piece in SORT_DATES:
        return eq._date_tuple(study.dates.get(piece, ""))
    count = (((study.study.get("protocolSection") or {}).get("designModule") or {}).get("enrollmentInfo") or {}
             ).get("count")
    return count if isinstance(count, (int, float)) else None


class CtgovEmulator(LoopbackEmulator):
    """ClinicalTrials.gov API v2 emulator over ``corpus.ctgov``.

    :param corpus: the studies to serve.
    :param data_timestamp: ``dataTimestamp`` of ``/api/v2/version`` (``yyyy-MM-dd'T'HH:mm:ss``).
    :param api_version: ``apiVersion`` of ``/api/v2/version``.
    """

    server_header = "ctgov-emulator"
    base_path = "/api/v2"

    def __init__(self, corpus: Corpus, *, data_timestamp: str = DEFAULT_DATA_TIMESTAMP,
                 api_version: str = API_VERSION, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", data_timestamp):
            raise ValueError(f"data_timestamp {data_timestamp!r} is not yyyy-MM-ddTHH:mm:ss")
        self.corpus = corpus
        self.studies = corpus.ctgov
        self.data_timestamp = data_timestamp
        self.api_version = api_version

    @property
    def base_url(self) -> str:
        return f"{self.root_url}{self.base_path}"

    # ------------------------------------------------------------------ dispatch
    def route(self, method, path, params, client, fault) -> Response:
        if method not in ("GET", "HEAD"):
            return Response(405, b"Method Not Allowed", TEXT_TYPE)
        try:
            if path in ("/api/v2/studies", "/api/v2/studies/"):
                return self._studies(params, fault)
            if path in ("/api/v2/studies/metadata", "/api/v2/studies/search-areas", "/api/v2/studies/enums"):
                raise BadRequest(f"{path} is not served by the reprisma emulator", status=404)
            if path.startswith("/api/v2/studies/"):
                return self._study(path[len("/api/v2/studies/"):], params)
            if path == "/api/v2/version":
                self._check_params(params, set())
                body = json.dumps({"apiVersion": self.api_version, "dataTimestamp": self.data_timestamp},
                                  separators=(",", ":"))
                return Response(200, body.encode(), JSON_TYPE)
        except BadRequest as exc:
            return Response(exc.status, str(exc).encode(), TEXT_TYPE)
        return Response(404, b"Not Found", TEXT_TYPE)

    def fault_response(self, fault: Fault, path, params, client) -> Response:
        reasons = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                   503: "Service Unavailable", 504: "Gateway Timeout"}
        body = fault.body if fault.body is not None else reasons.get(fault.status, "Error")
        body = body.encode() if isinstance(body, str) else body
        headers = [("Retry-After", str(fault.retry_after))] if fault.status in (429, 503) else []
        return Response(fault.status, body, fault.content_type or TEXT_TYPE, headers)

    @staticmethod
    def _check_params(params, allowed: set[str]):
        for name, _ in params:
            if name not in allowed:
                raise BadRequest(f"`{name}` is unknown parameter")
            if name in UNSUPPORTED:
                raise BadRequest(f"`{name}` is not supported by the reprisma emulator")

    @staticmethod
    def _format(p: dict):
        fmt = p.get("format", "json")
        if fmt != "json":
            raise BadRequest("Invalid value in parameter format: the reprisma emulator serves format=json only")
        if p.get("markupFormat", "markdown") not in ("markdown", "legacy"):
            raise BadRequest("Invalid value in parameter markupFormat")

    @staticmethod
    def _fields(p: dict):
        if "fields" not in p:
            return None
        names = _split_list(p["fields"])
        if not names:
            raise BadRequest("Parameter 'fields' must be non-empty")
        return _build_trie([_field_path(n) for n in names])

    # ------------------------------------------------------------------ /studies/{nctId}
    def _study(self, nct: str, params) -> Response:
        self._check_params(params, STUDY_PARAMS)
        p = dict(params)
        self._format(p)
        if not NCT_PATTERN.match(nct):
            raise BadRequest(f"Invalid NCT ID: {nct}")
        nct_id = _norm_nct(nct)
        trie = self._fields(p)
        study = self.studies.get(nct_id)
        if study is None:
            raise BadRequest(f"Study {nct_id} not found", status=404)
        obj = study.study if trie is None else _select(study.study, trie)
        return Response(200, json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode(), JSON_TYPE)

    # ------------------------------------------------------------------ /studies
    def _signature(self, params) -> bytes:
        items = sorted((k, v) for k, v in params if k not in PAGE_PARAMS)
        return hashlib.sha256(json.dumps(items).encode()).digest()[:8]

    def _token(self, offset: int, sig: bytes) -> str:
        return base64.urlsafe_b64encode(struct.pack(">I", offset) + sig).decode().rstrip("=")

    def _offset(self, token: str, sig: bytes) -> int:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raw = b""
        if len(raw) != 12 or raw[4:] != sig:
            raise BadRequest("Invalid value in parameter pageToken")
        return struct.unpack(">I", raw[:4])[0]

    def _studies(self, params, fault: Fault | None) -> Response:
        self._check_params(params, STUDIES_PARAMS)
        p = dict(params)
        self._format(p)
        trie = self._fields(p)
        count_total = p.get("countTotal", "false").lower()
        if count_total not in ("true", "false"):
            raise BadRequest("Invalid value in parameter countTotal")
        size_txt = p.get("pageSize", "")
        if size_txt == "":
            size = 10
        elif re.fullmatch(r"\d+", size_txt.strip()):
            size = int(size_txt) or 10
            size = min(size, 1000)
        else:
            raise BadRequest("Invalid value in parameter pageSize")
        statuses: set[str] | None = None
        for name in ("filter.overallStatus", "postFilter.overallStatus"):
            if name in p:
                values = _split_list(p[name])
                if not values or any(v not in STATUSES for v in values):
                    raise BadRequest("Invalid value in parameter overallStatus")
                statuses = set(values) if statuses is None else statuses & set(values)
        ids: set[str] | None = None
        for name in ("filter.ids", "postFilter.ids"):
            if name in p:
                values = _split_list(p[name])
                if not values or any(not NCT_PATTERN.match(v) for v in values):
                    raise BadRequest("Invalid value in parameter ids")
                norm = {_norm_nct(v) for v in values}
                ids = norm if ids is None else ids & norm
        queries = []
        try:
            for name, area in QUERY_AREAS.items():
                if p.get(name, "").strip():
                    queries.append((eq.parse(p[name]), area))
            for name in ("filter.advanced", "postFilter.advanced"):
                if p.get(name, "").strip():
                    queries.append((eq.parse(p[name]), "term"))
        except eq.EssieError as exc:
            raise BadRequest(f"Invalid query: {exc}") from None
        sort_keys = []
        if p.get("sort", "").strip():
            items = _split_list(p["sort"])
            if len(items) > 2:
                raise BadRequest("Invalid value in parameter sort")
            for item in items:
                name, _, direction = item.partition(":")
                if name == "@relevance" or (name not in SORT_DATES | SORT_NUMBERS):
                    if name != "@relevance":
                        raise BadRequest("Invalid value in parameter sort")
                    continue
                if direction not in ("", "asc", "desc"):
                    raise BadRequest("Invalid value in parameter sort")
                sort_keys.append((name, direction or ("desc" if name in SORT_DATES else "asc")))
        sig = self._signature(params)
        offset = self._offset(p["pageToken"], sig) if p.get("pageToken") else 0

        hits = []
        try:
            for nct in sorted(self.studies):
                st = self.studies[nct]
                if statuses is not None and st.overall_status not in statuses:
                    continue
                if ids is not None and nct not in ids:
                    continue
                if all(eq.matches(node, st, area) for node, area in queries):
                    hits.append(st)
        except eq.EssieError as exc:
            raise BadRequest(f"Invalid query: {exc}") from None
        for name, direction in reversed(sort_keys):
            present = [s for s in hits if _sort_value(s, name) is not None]
            missing = [s for s in hits if _sort_value(s, name) is None]
            present.sort(key=lambda s: _sort_value(s, name), reverse=(direction == "desc"))
            hits = present + missing
        page = hits[offset: offset + size]
        body: dict = {"studies": [s.study if trie is None else _select(s.study, trie) for s in page]}
        if count_total == "true" and not p.get("pageToken"):
            total = len(hits)
            if fault is not None and fault.kind == "count_mismatch":
                total += fault.missing
            body["totalCount"] = total
        if offset + size < len(hits):
            body["nextPageToken"] = self._token(offset + size, sig)
            if fault is not None and fault.kind == "cycle_token":
                body["nextPageToken"] = self._token(offset, sig)
        return Response(200, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), JSON_TYPE)
