"""ClinicalTrials.gov API v2: ``/version`` for the data timestamp, ``/studies`` paged by pageToken."""

from __future__ import annotations

import json

from reprisma.search.http import BadBody, HttpClient


def parse_json(body: bytes, what: str) -> dict:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadBody(f"{what}: answer is not complete JSON ({e})") from None
    if not isinstance(data, dict):
        raise BadBody(f"{what}: expected a JSON object")
    return data


def study_nct(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


class CtgovClient:
    def __init__(self, base_url: str, http: HttpClient):
        self.base_url = base_url.rstrip("/")
        self.http = http

    def version(self) -> tuple[bytes, dict]:
        params: dict = {}
        body = self.http.request("GET", f"{self.base_url}/version", params,
                                 check=lambda b: parse_json(b, "/version"))
        return body, params

    def studies_page(self, query: dict, page_size: int, page_token: str | None) -> tuple[bytes, dict]:
        params = {**query, "format": "json", "pageSize": str(page_size)}
        if page_token:
            params["pageToken"] = page_token
        else:
            params["countTotal"] = "true"

        def check(b: bytes):
            data = parse_json(b, "/studies")
            if "studies" not in data:
                raise BadBody("/studies: answer has no 'studies' list")

        body = self.http.request("GET", f"{self.base_url}/studies", params, check=check)
        return body, params
