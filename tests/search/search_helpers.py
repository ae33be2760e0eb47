"""Helpers shared by the capture tests (imported as a module: pytest puts this folder on sys.path)."""

import time

from reprisma.protocol import pubmed_query, validate_config


def make_protocol(eutils, ctgov, **kw):
    return validate_config(protocol_config(eutils, ctgov, **kw), "test.yaml")


def protocol_config(eutils, ctgov, *, term="psilocybin", window=("2020-01-01", "2025-12-31"), batch=10,
                    page_size=3, ctgov_search=None) -> dict:
    limits = {"date_field": "edat", "date_from": window[0], "date_to": window[1]}
    searches = [{"id": "pm", "source": "pubmed", "term": term, "limits": limits,
                 "query": pubmed_query(term, limits, window)}]
    if ctgov_search:
        searches.append({"id": "ct", "source": "ctgov", **ctgov_search})
    return {
        "protocol": {"id": "t", "title": "test"},
        "searches": searches,
        "services": {"eutils": {"base_url": eutils.base_url, "batch_size": batch},
                     "ctgov": {"base_url": ctgov.base_url, "page_size": page_size}},
    }


def served_pmids(eutils, query):
    """What the emulator serves for a query, asked directly (outside the rate limit)."""
    import requests

    limit, eutils.rate_limit = eutils.rate_limit, False
    try:
        r = requests.get(eutils.base_url + "esearch.fcgi",
                         params={"db": "pubmed", "term": query, "retmax": "9999", "retmode": "json"})
    finally:
        eutils.rate_limit = limit
    time.sleep(eutils.rate_window)  # our own look-up still counts in the emulator's window
    return set(r.json()["esearchresult"]["idlist"])
