"""PubMed through NCBI E-utilities: esearch on the history server, then efetch in batches.

Polite defaults live here, once (as in Biopython's Bio.Entrez): ``tool``, ``email`` and
``api_key`` go with every request; the rate limit is 3 requests/s, 10 with an API key.
PubMed's esearch returns at most 9,999 ids, so a larger result is cut into date slices whose
counts add up to the whole.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urljoin

from reprisma.search.http import BadBody, HttpClient, ServiceError, register_secret, scrub

ESEARCH_MAX = 9999
# NCBI back-end hiccups reported inside an HTTP 200 ``<ERROR>``: retried, unlike a refused query.
TRANSIENT_ERRORS = ("Search Backend failed", "Backend failed", "temporarily unavailable",
                    "Internal Server Error", "Service unavailable", "timed out", "try again")
# ...except the genuine retstart-ceiling message, which also starts "Search Backend failed".
PERMANENT_ERRORS = ("cannot be larger than 9998",)


def transient_error(message: str) -> bool:
    low = message.lower()
    return (any(m.lower() in low for m in TRANSIENT_ERRORS)
            and not any(m.lower() in low for m in PERMANENT_ERRORS))


@dataclass
class EsearchResult:
    body: bytes
    count: int
    ids: list[str]
    webenv: str | None
    query_key: str | None
    query_translation: str | None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_esearch(body: bytes) -> EsearchResult:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise BadBody(f"esearch answer is not XML ({e}): {scrub(body[:80])!r}") from None
    if root.tag != "eSearchResult":
        raise BadBody(f"esearch answer has root <{root.tag}>, expected <eSearchResult>")
    top_error = root.findtext("ERROR")
    if top_error:
        if transient_error(top_error):
            raise BadBody(f"esearch: PubMed reported a transient error: {' '.join(top_error.split())[:200]}")
        raise ServiceError(f"esearch: PubMed refused the query: {top_error.strip()}")
    errors = [f"{e.tag}: {e.text}" for e in root.iterfind("ErrorList/*")]
    warnings = [f"{w.tag}: {w.text}" for w in root.iterfind("WarningList/*")]
    return EsearchResult(
        body=body,
        count=int(root.findtext("Count") or 0),
        ids=[e.text for e in root.iterfind("IdList/Id")],
        webenv=root.findtext("WebEnv"),
        query_key=root.findtext("QueryKey"),
        query_translation=root.findtext("QueryTranslation"),
        warnings=warnings,
        errors=errors,
    )


def efetch_pmids(body: bytes) -> list[str]:
    """PMIDs of the articles in an efetch answer (not those cited inside them).

    The answer must be a complete ``<PubmedArticleSet>``: an HTML error page (well-formed enough
    to parse, with no articles) or a transient ``<ERROR>`` is a :class:`BadBody` (retried)."""
    try:
        pmids = []
        root = None
        for event, elem in ET.iterparse(io.BytesIO(body), events=("start", "end")):
            if root is None:
                root = elem.tag
                if root != "PubmedArticleSet" and root != "eFetchResult":
                    raise BadBody(f"efetch answer has root <{root}>, expected <PubmedArticleSet> "
                                  "(an error page?)")
                continue
            if event != "end":
                continue
            if elem.tag in ("PubmedArticle", "PubmedBookArticle"):
                pmid = elem.findtext("MedlineCitation/PMID") or elem.findtext("BookDocument/PMID")
                pmids.append(pmid)
                elem.clear()
            elif elem.tag == "ERROR":
                text = " ".join((elem.text or "").split())
                if transient_error(text):
                    raise BadBody(f"efetch: NCBI reported a transient error: {text[:200]}")
                raise ServiceError(f"efetch: {text}")
        if root is None:
            raise BadBody("efetch answer is empty")
        if root == "eFetchResult":
            raise BadBody("efetch answer is an empty <eFetchResult>")
        return pmids
    except ET.ParseError as e:
        raise BadBody(f"efetch answer is not complete XML ({e})") from None


def verify_batch(body: bytes, expect: list[str], retstart: int = 0) -> list[str]:
    """The PMIDs of an efetch batch, which must be exactly ``expect`` (as a set, no repeats)."""
    got = efetch_pmids(body)
    if len(got) != len(set(got)) or set(got) != set(expect):
        missing = sorted(set(expect) - set(got), key=lambda x: (len(x or ""), x or ""))
        extra = sorted(set(got) - set(expect), key=lambda x: (len(x or ""), x or ""))
        raise BadBody(
            f"efetch batch at retstart {retstart}: asked for {len(expect)} records, received {len(got)}; "
            f"missing {len(missing)} (first: {', '.join(missing[:5]) or '-'}), "
            f"unexpected {len(extra)} (first: {', '.join(extra[:5]) or '-'})"
            + (f", {len(got) - len(set(got))} repeated" if len(got) != len(set(got)) else ""))
    return got


class EutilsClient:
    def __init__(self, base_url: str, tool: str, email: str | None, api_key: str | None,
                 http: HttpClient):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.identity = {"tool": tool}
        if email:
            self.identity["email"] = email
        self.api_key = api_key
        self.http = http
        register_secret(api_key)
        register_secret(email)

    @staticmethod
    def rate(api_key: str | None) -> float:
        return 10.0 if api_key else 3.0

    def _send(self, endpoint: str, params: dict, check) -> tuple[bytes, dict]:
        """POST (long queries fit) and return the body and the parameters as recorded: no secret,
        and the e-mail address only as ``(given)`` (snapshots are committed and shared)."""
        wire = {**params, **self.identity}
        sent = {**wire, "email": "(given)"} if "email" in wire else dict(wire)
        if self.api_key:
            wire["api_key"] = self.api_key
        body = self.http.request("POST", urljoin(self.base_url, endpoint), wire, check=check)
        return body, sent

    def esearch(self, term: str, retmax: int = ESEARCH_MAX) -> tuple[EsearchResult, dict]:
        params = {"db": "pubmed", "term": term, "usehistory": "y", "retmax": str(retmax), "retstart": "0"}
        body, sent = self._send("esearch.fcgi", params, check=parse_esearch)
        return parse_esearch(body), sent

    def efetch(self, webenv: str, query_key: str, retstart: int, retmax: int,
               expect: list[str] | None = None) -> tuple[bytes, dict]:
        """One batch through the history server; with ``expect``, the batch must hold exactly
        those PMIDs (else it is a :class:`BadBody`, retried like a broken answer)."""
        params = {"db": "pubmed", "WebEnv": webenv, "query_key": query_key, "retstart": str(retstart),
                  "retmax": str(retmax), "retmode": "xml", "rettype": "abstract"}
        check = efetch_pmids if expect is None else (lambda b: verify_batch(b, expect, retstart))
        return self._send("efetch.fcgi", params, check=check)

    def efetch_ids(self, pmids: list[str]) -> tuple[bytes, dict]:
        """Named records (an incremental capture fetches only what no earlier capture holds); the
        answer must hold exactly those PMIDs."""
        params = {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml", "rettype": "abstract"}
        return self._send("efetch.fcgi", params, check=lambda b: verify_batch(b, pmids))


def split_window(start: str, end: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """Halve an inclusive date window at a day boundary."""
    a, b = date.fromisoformat(start), date.fromisoformat(end)
    if a >= b:
        raise ValueError(f"cannot split the one-day window {start}")
    mid = a + (b - a) // 2
    return (a.isoformat(), mid.isoformat()), ((mid + timedelta(days=1)).isoformat(), b.isoformat())
