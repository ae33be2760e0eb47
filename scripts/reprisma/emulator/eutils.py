"""Loopback emulator of NCBI E-utilities (esearch, efetch, epost) for db=pubmed.

Serves ``/entrez/eutils/{esearch,efetch,epost}.fcgi`` like
``https://eutils.ncbi.nlm.nih.gov/entrez/eutils/``, by GET or POST (form body). Response bodies
copy the genuine ones byte for byte in structure (DOCTYPE lines, element order, newlines, tabs):
see ``tests/fixtures/pubmed/biopython/{esearch1,esearch8,epost1,epost2,epost3,pubmed1}.xml``, the
esearch JSON captures in ``tests/fixtures/pubmed/biomcp/`` and the biocommons cassettes (headers).

Behaviour worth knowing (and where it came from):

* Default sort: PMID descending. PubMed's default for esearch is "most recent" (by entrez date);
  PMIDs are assigned in entrez order, so PMID descending is the same order for real records
  (``esearch1.xml`` is in descending PMID order). ``sort=pub_date`` sorts by publication date
  (newest first), ``first_author``/``author``, ``journal``/``journalname`` and ``title``
  ascending; ``relevance`` falls back to the default (the emulator has no relevance model).
* ``retmax`` defaults to 20 and is clamped to 9,999; ``retstart`` above 9,998 is refused with
  the genuine ``Search Backend failed`` message inside ``<ERROR>`` at HTTP 200 (two independent
  2026 live checks found in the search tool: "HTTP 200 with ... JSON error body ('retstart' cannot
  be larger than 9998...)"; pubmed-filters: "inside an HTTP 200"). A window that crosses record
  9,999 is clamped silently (``retstart=9500&retmax=500`` serves 499), also measured live.
* efetch through the history server serves only the first 9,999 records of a set
  (``history_cap``): ``retstart`` beyond it is HTTP 400 with the same message (bmlib's live
  measurement, 2026-08-20: "retstart=9999 is HTTP 400 ... 'retstart' cannot be larger than
  9998"). ``history_cap=None`` removes the cap.
* Unknown or expired WebEnv: esearch answers ``<ERROR>Unable to obtain query #N</ERROR>`` at HTTP
  200 (the JSON form was checked live 2026-09-14 per a public design note); efetch answers HTTP
  400 with an ``eFetchResult`` whose ERROR is the genuine "Cannot retrieve history data.
  query_key: 1, WebEnv: MCID_..., retstart: ..., retmax: ..." line (quoted from a real NCBI
  response kept in a public SRA download script, with the efetch 20131226 DOCTYPE). The HTTP
  status 400 follows bmlib's note that a dropped WebEnv is "a 400 raised by anything other than
  the retstart limit"; not independently confirmed.
* efetch without ids: ``ID list is empty! Possibly it has no correct IDs.`` (genuine text, seen
  in a public PMC mock) at HTTP 400 (status assumed).
* Rate limit (switchable, on by default): more than 3 requests in any second from one client
  (10 with ``api_key``; the key, else the client address, identifies the client) is answered
  HTTP 429 with the genuine JSON body shape (``esummary_rate_limit_exceeded.json``:
  ``{"error":"API rate limit exceeded","api-key":...,"count":...,"limit":...}``; ``api-key``
  echoes the key, or the caller's address when there is none, as NCBI does), ``Retry-After``
  and the ``X-RateLimit-*`` headers that every response carries (values as in the cassettes).
* Also served: ``field=`` (the field of untagged terms), ``rettype=count`` (Count only),
  ``datetype``/``mindate``/``maxdate``/``reldate`` (ANDed to the query and shown in
  QueryTranslation as ``... AND 2025/09/27:2025/11/26[Date - Entry]``, as in ``esearch2.xml``),
  ``query_key``+``WebEnv`` on esearch (intersection with a stored set, result stored in the same
  WebEnv), parameter names in any case (``webenv`` as Biopython sends it).
* Not emulated: gzip content encoding and chunked transfer (bodies are sent with
  Content-Length), cookies/NCBI-SID, esummary/elink/einfo, databases other than pubmed (answered
  ``Invalid db name specified``), efetch text formats (only ``retmode=xml``), MeSH automatic
  term mapping (see ``pubmed_query``).
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import json
import threading
import time
from xml.sax.saxutils import escape

from . import pubmed_query as pq
from .corpus import Corpus
from .faults import Fault
from .server import LoopbackEmulator, Response

__all__ = ["EutilsEmulator", "ESEARCH_HEAD", "EPOST_HEAD", "EFETCH_HEAD", "EFETCH_ERROR_HEAD",
           "RETSTART_MESSAGE"]

ESEARCH_HEAD = ('<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch '
                '20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n')
EPOST_HEAD = ('<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE ePostResult PUBLIC "-//NLM//DTD epost '
              '20090526//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20090526/epost.dtd">')
EFETCH_HEAD = ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st '
               'January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n')
EFETCH_ERROR_HEAD = ('<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eEfetchResult PUBLIC "-//NLM//DTD '
                     'efetch 20131226//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">\n')
# The genuine message (several independent public quotes agree on this wording, newline included).
RETSTART_MESSAGE = (
    "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, ESearch can only "
    "retrieve the first 9,999 records matching the query. To obtain more than 9,999 PubMed records, consider "
    "using EDirect that contains additional logic to batch PubMed search results automatically so that an "
    "arbitrary number can be retrieved. For details see https://www.ncbi.nlm.nih.gov/books/NBK25499/"
)
MAX_UID = 18446744073709551615
XML_TYPE = "text/xml; charset=UTF-8"
JSON_TYPE = "application/json; charset=UTF-8"
COMMON_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "X-RateLimit-Limit,X-RateLimit-Remaining"),
    ("Cache-Control", "private"),
    ("Content-Security-Policy", "upgrade-insecure-requests"),
    ("Referrer-Policy", "origin-when-cross-origin"),
    ("X-UA-Compatible", "IE=Edge"),
    ("X-XSS-Protection", "1; mode=block"),
]
_HTML_ERRORS = {
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def _int(params: dict, name: str, default: int) -> int:
    v = params.get(name, "")
    try:
        return int(v) if str(v).strip() != "" else default
    except ValueError:
        return default


class EutilsEmulator(LoopbackEmulator):
    """E-utilities emulator over a :class:`~reprisma.emulator.corpus.Corpus`.

    :param corpus: the records to serve (``corpus.pubmed``).
    :param rate_limit: enforce 3 (10 with api_key) requests per second per client.
    :param not_found: ``"drop"`` (PubMed's behaviour) or ``"keep"`` for unknown unquoted words.
    :param seed: seed of the deterministic WebEnv strings (``MCID_`` + 24 hex digits).
    :param today: the date ``reldate`` counts back from (default: the current UTC date).
    :param history_cap: records a history set serves through efetch (None: no cap).
    :param rate_window: the rate-limit window in seconds (NCBI: 1; tests may widen it).
    """

    server_header = "Finatra"
    base_path = "/entrez/eutils/"

    def __init__(self, corpus: Corpus, *, host: str = "127.0.0.1", port: int = 0, rate_limit: bool = True,
                 not_found: str = "drop", seed: str = "reprisma", today: dt.date | None = None,
                 history_cap: int | None = 9999, rate_window: float = 1.0,
                 unknown_language_matches: bool = False):
        super().__init__(host, port)
        self.corpus = corpus
        self.records = corpus.pubmed
        self.index = pq.PubmedIndex(corpus.pubmed.values(), unknown_language_matches=unknown_language_matches)
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.not_found = not_found
        self.seed = seed
        self.today = today
        self.history_cap = history_cap
        self._history: dict[str, dict[int, list[str]]] = {}
        self._webenv_counter = 0
        self._hist_lock = threading.Lock()
        self._hits: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._rate_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"{self.root_url}{self.base_path}"

    # ------------------------------------------------------------------ history server
    def _new_webenv(self) -> str:
        self._webenv_counter += 1
        digest = hashlib.sha256(f"{self.seed}:{self._webenv_counter}".encode()).hexdigest()
        return f"MCID_{digest[:24]}"

    def _store(self, webenv: str | None, ids: list[str]) -> tuple[str, int]:
        with self._hist_lock:
            if not webenv or webenv not in self._history:
                webenv = self._new_webenv()
                self._history[webenv] = {}
            env = self._history[webenv]
            key = len(env) + 1
            env[key] = list(ids)
            return webenv, key

    def _lookup(self, webenv: str | None, key: int) -> list[str]:
        with self._hist_lock:
            env = self._history.get(webenv or "")
            if env is None or key not in env:
                raise pq.HistoryError(key)
            return list(env[key])

    def expire_webenvs(self) -> None:
        """Forget every WebEnv (what the ``expire_webenv`` fault does)."""
        with self._hist_lock:
            self._history.clear()

    def reset(self):
        super().reset()
        with self._rate_lock:
            self._hits.clear()

    # ------------------------------------------------------------------ rate limit
    def _rate(self, params: dict, client: str) -> tuple[bool, list[tuple[str, str]], bytes]:
        key = params.get("api_key") or ""
        limit = 10 if key else 3
        ident = f"key:{key}" if key else f"ip:{client}"
        now = time.monotonic()
        with self._rate_lock:
            hits = self._hits[ident]
            while hits and now - hits[0] >= self.rate_window:
                hits.popleft()
            count = len(hits) + 1
            allowed = not self.rate_limit or count <= limit
            if allowed:
                hits.append(now)
        headers = [("X-RateLimit-Limit", str(limit)), ("X-RateLimit-Remaining", str(max(0, limit - count)))]
        if allowed:
            return True, headers, b""
        body = json.dumps({"error": "API rate limit exceeded", "api-key": key or client, "count": str(count),
                           "limit": str(limit)}, separators=(",", ":")).encode()
        retry = max(1, int(self.rate_window + 0.999))
        return False, headers + [("Retry-After", str(retry))], body

    # ------------------------------------------------------------------ dispatch
    def route(self, method, path, params_list, client, fault) -> Response:
        # NCBI treats parameter names case-insensitively (Biopython sends ``webenv``, the
        # documentation says ``WebEnv``); the first occurrence of a name wins.
        params: dict[str, str] = {}
        for k, v in params_list:
            params.setdefault(k.lower(), v)
        if method not in ("GET", "POST", "HEAD"):
            return self._html_error(405, "Method Not Allowed")
        if not path.startswith(self.base_path):
            return self._html_error(404, "Not Found")
        allowed, rate_headers, body = self._rate(params, client)
        if not allowed:
            return Response(429, body, JSON_TYPE, COMMON_HEADERS + rate_headers)
        if fault is not None and fault.kind == "expire_webenv":
            self.expire_webenvs()
        name = path[len(self.base_path):]
        if name == "esearch.fcgi":
            resp = self._esearch(params, fault)
        elif name == "efetch.fcgi":
            resp = self._efetch(params, fault)
        elif name == "epost.fcgi":
            resp = self._epost(params)
        else:
            resp = self._html_error(404, "Not Found")
        resp.headers = COMMON_HEADERS + rate_headers + resp.headers
        return resp

    def fault_response(self, fault: Fault, path, params_list, client) -> Response:
        params = dict(params_list)
        key = params.get("api_key") or ""
        limit = 10 if key else 3
        headers = list(COMMON_HEADERS)
        if fault.status == 429:
            body = json.dumps({"error": "API rate limit exceeded", "api-key": key or client,
                               "count": str(limit + 1), "limit": str(limit)}, separators=(",", ":")).encode()
            ctype = JSON_TYPE
            headers += [("X-RateLimit-Limit", str(limit)), ("X-RateLimit-Remaining", "0"),
                        ("Retry-After", str(fault.retry_after))]
        else:
            reason = _HTML_ERRORS.get(fault.status, "Error")
            body = (f"<html>\n<head><title>{fault.status} {reason}</title></head>\n<body>\n<center><h1>"
                    f"{fault.status} {reason}</h1></center>\n</body>\n</html>\n").encode()
            ctype = "text/html"
            if fault.status == 503:
                headers.append(("Retry-After", str(fault.retry_after)))
        if fault.body is not None:
            body = fault.body.encode() if isinstance(fault.body, str) else fault.body
        if fault.content_type:
            ctype = fault.content_type
        return Response(fault.status, body, ctype, headers)

    @staticmethod
    def _html_error(status: int, reason: str) -> Response:
        body = f"<html>\n<head><title>{status} {reason}</title></head>\n<body>\n<center><h1>{status} {reason}" \
               f"</h1></center>\n</body>\n</html>\n"
        return Response(status, body.encode(), "text/html")

    # ------------------------------------------------------------------ esearch
    def _esearch_error(self, message: str, json_mode: bool) -> Response:
        if json_mode:
            body = json.dumps({"header": {"type": "esearch", "version": "0.3"}, "esearchresult": {"ERROR": message}},
                              separators=(",", ":"), ensure_ascii=False) + "\n"
            return Response(200, body.encode(), JSON_TYPE)
        body = f"{ESEARCH_HEAD}<eSearchResult><ERROR>{escape(message)}</ERROR></eSearchResult>\n"
        return Response(200, body.encode(), XML_TYPE)

    def _sorted(self, ids: set[str], sort: str) -> list[str]:
        s = " ".join(sort.replace("+", " ").replace("_", " ").lower().split())
        by_pmid = sorted(ids, key=int, reverse=True)
        recs = self.records
        if s in ("pub date", "pubdate", "publication date"):
            return sorted(by_pmid, key=lambda p: recs[p].pub_date_sort, reverse=True)
        if s in ("first author", "author"):
            return sorted(by_pmid, key=lambda p: (recs[p].authors[:1] or ("\uffff",))[0].casefold())
        if s in ("journal", "journalname", "journal name"):
            return sorted(by_pmid, key=lambda p: (recs[p].journals[:1] or ("\uffff",))[0].casefold())
        if s == "title":
            return sorted(by_pmid, key=lambda p: recs[p].title.casefold())
        return by_pmid

    def _date_limit(self, params: dict):
        datetype = (params.get("datetype") or "pdat").lower()
        field = pq.FIELD_ALIASES.get(datetype)
        if field not in pq.DATE_FIELDS:
            field = "dp"
        mindate, maxdate = params.get("mindate", "").strip(), params.get("maxdate", "").strip()
        reldate = params.get("reldate", "").strip()
        if mindate and maxdate:
            lo, hi = pq.date_range(mindate), pq.date_range(maxdate)
            if lo is None or hi is None:
                return None
            return pq.DateRange(field, mindate, maxdate, lo[0], hi[1])
        if reldate.isdigit():
            today = self.today or dt.datetime.now(dt.timezone.utc).date()
            start = today - dt.timedelta(days=int(reldate))
            return pq.DateRange(field, start.strftime("%Y/%m/%d"), today.strftime("%Y/%m/%d"), start, today)
        return None

    def _esearch(self, params: dict, fault: Fault | None) -> Response:
        json_mode = params.get("retmode", "xml").lower() == "json"
        db = params.get("db", "pubmed") or "pubmed"
        if db.lower() != "pubmed":
            return self._esearch_error(f"Invalid db name specified: {db}", json_mode)
        term = params.get("term", "").strip()
        query_key = params.get("query_key", "").strip()
        webenv = params.get("webenv", "").strip() or None
        if not term and not query_key:
            return self._esearch_error("Empty term and query_key - nothing todo", json_mode)
        retstart = max(0, _int(params, "retstart", 0))
        retmax = max(0, _int(params, "retmax", 20))
        if retstart > 9998:
            return self._esearch_error(RETSTART_MESSAGE, json_mode)
        retmax = min(retmax, 9999)
        if query_key:
            if not query_key.isdigit():
                return self._esearch_error(f"Unable to obtain query #{query_key}", json_mode)
            term = f"#{query_key} AND ({term})" if term else f"#{query_key}"
        field = params.get("field", "").strip()
        default_field = pq.FIELD_ALIASES.get(" ".join(field.lower().split()), "all") if field else "all"
        if default_field in pq.DATE_FIELDS:
            default_field = "all"
        try:
            result = pq.search(term, self.index, history=lambda k: self._lookup(webenv, k),
                               not_found=self.not_found, extra=self._date_limit(params),
                               default_field=default_field)
        except pq.HistoryError as exc:
            return self._esearch_error(str(exc), json_mode)
        except pq.QuerySyntaxError as exc:
            return self._esearch_error(f"Search Backend failed: Exception:\n{exc}", json_mode)
        ids = self._sorted(result.ids, params.get("sort", ""))
        count = len(ids)
        served_set = ids
        if fault is not None and fault.kind == "count_mismatch":
            served_set = ids[: max(0, len(ids) - fault.missing)]
        if params.get("rettype", "").lower() == "count":
            if json_mode:
                body = json.dumps({"header": {"type": "esearch", "version": "0.3"},
                                   "esearchresult": {"count": str(count)}}, separators=(",", ":")) + "\n"
                return Response(200, body.encode(), JSON_TYPE)
            return Response(200, f"{ESEARCH_HEAD}<eSearchResult><Count>{count}</Count></eSearchResult>\n".encode(),
                            XML_TYPE)
        qk = we = None
        if params.get("usehistory", "").lower() == "y":
            we, qk = self._store(webenv, served_set)
        end = min(retstart + retmax, 9999)
        page = served_set[retstart:end]
        warnings = list(result.quoted_phrases_not_found)
        messages = ["No items found."] if count == 0 else []
        if json_mode:
            er = {"count": str(count), "retmax": str(len(page)), "retstart": str(retstart)}
            if qk is not None:
                er["querykey"] = str(qk)
                er["webenv"] = we
            er["idlist"] = page
            er["translationset"] = []
            er["querytranslation"] = result.translation
            if result.phrases_not_found or result.fields_not_found:
                er["errorlist"] = {"phrasesnotfound": result.phrases_not_found,
                                   "fieldsnotfound": result.fields_not_found}
            if warnings or messages:
                er["warninglist"] = {"phrasesignored": [], "quotedphrasesnotfound": warnings,
                                     "outputmessages": messages}
            body = json.dumps({"header": {"type": "esearch", "version": "0.3"}, "esearchresult": er},
                              separators=(",", ":"), ensure_ascii=False) + "\n"
            return Response(200, body.encode(), JSON_TYPE)
        parts = [ESEARCH_HEAD, f"<eSearchResult><Count>{count}</Count><RetMax>{len(page)}</RetMax>"
                               f"<RetStart>{retstart}</RetStart>"]
        if qk is not None:
            parts.append(f"<QueryKey>{qk}</QueryKey><WebEnv>{we}</WebEnv>")
        if page:
            parts.append("<IdList>\n" + "".join(f"<Id>{i}</Id>\n" for i in page) + "</IdList>")
        else:
            parts.append("<IdList/>")
        parts.append("<TranslationSet/>")
        parts.append(f"<QueryTranslation>{escape(result.translation)}</QueryTranslation>")
        if result.phrases_not_found or result.fields_not_found:
            parts.append("<ErrorList>" + "".join(f"<PhraseNotFound>{escape(p)}</PhraseNotFound>"
                                                 for p in result.phrases_not_found)
                         + "".join(f"<FieldNotFound>{escape(f)}</FieldNotFound>" for f in result.fields_not_found)
                         + "</ErrorList>")
        if warnings or messages:
            parts.append("<WarningList>" + "".join(f"<QuotedPhraseNotFound>{escape(w)}</QuotedPhraseNotFound>"
                                                   for w in warnings)
                         + "".join(f"<OutputMessage>{escape(m)}</OutputMessage>" for m in messages)
                         + "</WarningList>")
        parts.append("</eSearchResult>\n")
        return Response(200, "".join(parts).encode(), XML_TYPE)

    # ------------------------------------------------------------------ efetch
    @staticmethod
    def _efetch_error(status: int, *messages: str) -> Response:
        body = EFETCH_ERROR_HEAD + "<eFetchResult>\n" + "".join(f"\t<ERROR>{escape(m)}</ERROR>\n" for m in messages) \
            + "</eFetchResult>\n"
        return Response(status, body.encode(), XML_TYPE)

    def _efetch(self, params: dict, fault: Fault | None) -> Response:
        db = params.get("db", "") or ""
        if db.lower() != "pubmed":
            return self._efetch_error(400, f"Invalid db name specified: {db}")
        retmode = (params.get("retmode") or "xml").lower()
        rettype = (params.get("rettype") or "").lower()
        if retmode != "xml" or rettype not in ("", "abstract", "xml", "null", "full", "medline"):
            return self._efetch_error(400, f"The emulator serves retmode=xml only (got retmode={retmode}, "
                                           f"rettype={rettype})")
        id_param = params.get("id", "").replace(" ", ",")
        ids = [i.strip() for i in id_param.split(",") if i.strip().isdigit()]
        webenv = params.get("webenv", "").strip()
        query_key = params.get("query_key", "").strip()
        retstart = max(0, _int(params, "retstart", 0))
        retmax = max(0, _int(params, "retmax", 20))
        retmax = min(retmax, 10000)
        if ids:
            wanted = ids
        elif webenv and query_key:
            try:
                wanted = self._lookup(webenv, int(query_key) if query_key.isdigit() else -1)
            except pq.HistoryError:
                return self._efetch_error(400, f"Cannot retrieve history data. query_key: {query_key}, "
                                               f"WebEnv: {webenv}, retstart: {retstart}, retmax: {retmax}")
            cap = self.history_cap
            if cap is not None and retstart > cap - 1:
                return self._efetch_error(400, RETSTART_MESSAGE)
            end = retstart + retmax if cap is None else min(retstart + retmax, cap)
            wanted = wanted[retstart:end]
        else:
            return self._efetch_error(400, "ID list is empty! Possibly it has no correct IDs.")
        articles = [self.records[p].xml for p in wanted if p in self.records]
        if fault is not None and fault.kind == "count_mismatch":
            articles = articles[: max(0, len(articles) - fault.missing)]
        body = EFETCH_HEAD + "<PubmedArticleSet>\n" + "".join(articles) + "</PubmedArticleSet>"
        return Response(200, body.encode("utf-8"), XML_TYPE)

    # ------------------------------------------------------------------ epost
    def _epost(self, params: dict) -> Response:
        db = params.get("db", "") or ""
        if db.lower() != "pubmed":
            body = f"{EPOST_HEAD}\n<ePostResult>\n\t<ERROR>Invalid db name specified: {escape(db)}</ERROR>\n" \
                   f"</ePostResult>\n"
            return Response(200, body.encode(), XML_TYPE)
        raw = [i.strip() for i in params.get("id", "").replace(" ", ",").split(",") if i.strip()]
        valid, invalid = [], False
        for i in raw:
            if i.isdigit() and int(i) <= MAX_UID:
                if str(int(i)) not in valid:
                    valid.append(str(int(i)))
            else:
                invalid = True
        errors = []
        if not valid:
            errors.append("Empty ID list; Nothing to store")
        if invalid:
            errors.append(f"Some IDs have invalid value and were omitted. Maximum ID value {MAX_UID}")
        if not valid:
            body = EPOST_HEAD + "<ePostResult>\n" + "\n".join(f"\t<ERROR>{e}</ERROR>" for e in errors) \
                + "</ePostResult>\n"
            return Response(200, body.encode(), XML_TYPE)
        webenv, key = self._store(params.get("webenv", "").strip() or None, valid)
        err = "".join(f"\t<ERROR>{e}</ERROR>\n" for e in errors)
        body = f"{EPOST_HEAD}<ePostResult>\n\t<QueryKey>{key}</QueryKey>\n\t<WebEnv>{webenv}</WebEnv>\n{err}" \
               f"</ePostResult>\n"
        return Response(200, body.encode(), XML_TYPE)
