"""Classic ClinicalTrials.gov XML -> API v2 JSON (reprisma.emulator.ctgov_classic), on the twelve
genuine records of tests/fixtures/ctgov-2020 (processed by the registry on 2020-07-28).

Every row of FIELD_MAP is checked on the records by a generic walk (the classic path's values,
converted as the row's kind says, equal the values at the v2 path) and must be exercised by at
least one record; key names and key order are checked against the genuine v2 responses in
tests/fixtures/clinicaltrials; hand-read values of single records pin the conversions down.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
import xml.etree.ElementTree as ET

import pytest
import requests

from reprisma.emulator import CtgovEmulator, load_corpus
from reprisma.emulator import ctgov_classic as cc
from reprisma.emulator.corpus import CorpusError
from reprisma.records.ctgov import study_record

from .conftest import CTGOV, FIXTURES

CLASSIC = FIXTURES / "ctgov-2020"
FILES = sorted(CLASSIC.glob("NCT*.xml"))
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


@pytest.fixture(scope="module")
def converted():
    out = {}
    for path in FILES:
        root = ET.parse(path).getroot()
        out[path.stem] = (root, cc.classic_to_v2(root, str(path)))
    return out


def _classic_values(root, path):
    """Texts (or @type values) at a classic path, in document order."""
    elem, _, attr = path.partition("/@")
    els = root.findall(elem)
    if attr:
        return [e.get(attr) for e in els if e.get(attr)]
    return [("".join(e.itertext()) if len(e) == 0 else e) for e in els]


def _v2_values(obj, path):
    """Values at a dotted v2 path; ``[]`` flattens a list."""
    vals = [obj]
    for part in path.split("."):
        flat = part.endswith("[]")
        key = part[:-2] if flat else part
        nxt = []
        for v in vals:
            if isinstance(v, dict) and key in v:
                x = v[key]
                nxt.extend(x if flat and isinstance(x, list) else [x])
        vals = nxt
    return vals


def _date(text):
    text = text.strip()
    m = re.fullmatch(r"(\w+) (\d+), (\d{4})", text)
    if m:
        return f"{m.group(3)}-{MONTHS.index(m.group(1)) + 1:02d}-{int(m.group(2)):02d}"
    m = re.fullmatch(r"(\w+) (\d{4})", text)
    return f"{m.group(2)}-{MONTHS.index(m.group(1)) + 1:02d}"


def _expected(kind, values, root):
    """What the v2 values must be, from the classic values, by the row's kind."""
    if kind == "text":
        return [v.strip() for v in values if v.strip()]
    if kind == "block":
        return [textwrap.dedent(v.replace("\r\n", "\n").strip("\n")).strip() for v in values]
    if kind == "date":
        return [_date(v) for v in values]
    if kind.startswith("enum "):
        table = getattr(cc, kind.split()[1])
        return [table[v.strip()] for v in values]
    if kind == "phase":
        return [cc.PHASE[p.strip()] for v in values for p in v.split("/")]
    if kind == "masking":
        return [cc.MASKING[v.split(" (")[0]] for v in values]
    if kind == "who_masked":
        return [cc.WHO_MASKED[w.strip()] for v in values if "(" in v and "Open Label" not in v
                for w in v.split("(")[1].rstrip(")").split(",")]
    if kind == "int":
        return [int(v) for v in values]
    if kind == "age":
        return [v.strip() for v in values if v.strip() != "N/A"]
    if kind == "contact_role":
        return ["CONTACT" for _ in values]
    if kind == "contact_phone":  # contact and contact_backup phones share the v2 list
        return None
    if kind == "intervention_names":
        names = []
        for arm in root.findall("arm_group"):
            label = arm.findtext("arm_group_label").strip()
            names += [f"{iv.findtext('intervention_type').strip()}: {iv.findtext('intervention_name').strip()}"
                      for iv in root.findall("intervention")
                      if label in [a.text.strip() for a in iv.findall("arm_group_label")]]
        return names
    raise AssertionError(kind)


SPECIAL = {"reference", "reference_type", "version_holder", "mesh", "has_results", "contact_phone", "contact_role"}


def test_every_mapped_field_agrees_on_every_record_and_is_exercised(converted):
    exercised = set()
    for nct, (root, study) in converted.items():
        for row in cc.FIELD_MAP:
            classic, v2, kind = row
            if kind in SPECIAL:
                continue
            values = _classic_values(root, classic)
            got = _v2_values(study, v2)
            want = _expected(kind, values, root)
            assert got == want, (nct, classic, v2)
            if want:
                exercised.add(row)
    # the special rows, each by its own rule
    for nct, (root, study) in converted.items():
        refs = _v2_values(study, "protocolSection.referencesModule.references[]")
        want = ([{"pmid": r.findtext("PMID"), "citation": r.findtext("citation")} for r in root.findall("reference")]
                + [{"pmid": r.findtext("PMID"), "type": "RESULT", "citation": r.findtext("citation")}
                   for r in root.findall("results_reference")])
        assert refs == want, nct
        if want:
            exercised |= {r for r in cc.FIELD_MAP if r[2] in ("reference", "reference_type")
                          and (root.find(r[0].split("/")[0]) is not None)}
        phones = [c.findtext("phone") for loc in root.findall("location")
                  for c in loc.findall("contact") + loc.findall("contact_backup") if c.findtext("phone")]
        assert _v2_values(study, "protocolSection.contactsLocationsModule.locations[].contacts[].phone") == phones
        contacts = [c for loc in root.findall("location") for c in loc.findall("contact") + loc.findall("contact_backup")]
        assert _v2_values(study, "protocolSection.contactsLocationsModule.locations[].contacts[].role") == \
            ["CONTACT"] * len(contacts)
        assert _v2_values(study, "protocolSection.contactsLocationsModule.centralContacts[].role") == \
            ["CONTACT"] * len(root.findall("overall_contact"))
        exercised |= {r for r in cc.FIELD_MAP if r[2] in ("contact_phone", "contact_role") and root.find(r[0]) is not None}
        for tag, module in (("condition_browse", "conditionBrowseModule"),
                            ("intervention_browse", "interventionBrowseModule")):
            terms = [m.text for m in root.findall(f"{tag}/mesh_term")]
            assert _v2_values(study, f"derivedSection.{module}.meshes[]") == [{"term": t} for t in terms]
            if terms:
                exercised.add((f"{tag}/mesh_term", f"derivedSection.{module}.meshes[].term", "mesh"))
        assert study["derivedSection"]["miscInfoModule"] == {"versionHolder": "2020-07-28"}
        assert study["hasResults"] is (root.find("clinical_results") is not None) is False
    exercised.add(("required_header/download_date", "derivedSection.miscInfoModule.versionHolder", "version_holder"))
    exercised.add(("clinical_results", "hasResults", "has_results"))
    assert set(cc.FIELD_MAP) - exercised == set()


def _key_orders(obj, path="", out=None):
    """object path -> list of key tuples, one per object found at that path."""
    out = {} if out is None else out
    if isinstance(obj, dict):
        out.setdefault(path, []).append(tuple(obj))
        for k, v in obj.items():
            _key_orders(v, f"{path}.{k}" if path else k, out)
    elif isinstance(obj, list):
        for x in obj:
            _key_orders(x, path + "[]", out)
    return out


@pytest.fixture(scope="module")
def genuine_orders():
    """object path -> (every key seen there, every ordered key pair seen there) in the genuine v2 responses."""
    out = {}
    for path in sorted(CTGOV.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for st in data.get("studies", [data] if "protocolSection" in data else []):
            for p, objs in _key_orders(st).items():
                keys, pairs = out.setdefault(p, (set(), set()))
                for ks in objs:
                    keys.update(ks)
                    pairs.update((a, b) for i, a in enumerate(ks) for b in ks[i + 1:])
    return out


def test_key_names_and_order_follow_the_genuine_v2_structure(converted, genuine_orders):
    spec = (CTGOV / "openapi" / "ctg-oas-v2.yaml").read_text(encoding="utf-8")
    checked_pairs = 0
    for nct, (_root, study) in converted.items():
        for path, objs in _key_orders(study).items():
            keys, pairs = genuine_orders.get(path, (set(), set()))
            for ks in objs:
                for k in ks:
                    # a key the saved responses lack must be a property the official spec defines
                    assert k in keys or re.search(rf"^\s+{re.escape(k)}:\s*$", spec, re.M), (nct, path, k)
                for i, a in enumerate(ks):
                    for b in ks[i + 1:]:
                        assert (b, a) not in pairs or (a, b) in pairs, (nct, path, a, b)
                        checked_pairs += (a, b) in pairs
    assert checked_pairs > 1000


def test_hand_read_values_of_the_johns_hopkins_psilocybin_trial(converted):
    _root, study = converted["NCT03181529"]
    ps = study["protocolSection"]
    assert ps["identificationModule"] == {
        "nctId": "NCT03181529", "orgStudyIdInfo": {"id": "IRB00101821"},
        "organization": {"fullName": "Johns Hopkins University"},
        "briefTitle": "Effects of Psilocybin in Major Depressive Disorder",
        "officialTitle": "Effects of Psilocybin in Major Depressive Disorder"}
    st = ps["statusModule"]
    assert st["overallStatus"] == "ACTIVE_NOT_RECRUITING"
    assert st["statusVerifiedDate"] == "2019-12"
    assert st["startDateStruct"] == {"date": "2017-08-10", "type": "ACTUAL"}
    assert st["completionDateStruct"] == {"date": "2020-12", "type": "ESTIMATED"}
    assert st["studyFirstPostDateStruct"] == {"date": "2017-06-08", "type": "ACTUAL"}
    assert st["lastUpdatePostDateStruct"] == {"date": "2019-12-27", "type": "ACTUAL"}
    d = ps["designModule"]
    assert d["phases"] == ["PHASE2"] and d["studyType"] == "INTERVENTIONAL"
    assert d["designInfo"]["maskingInfo"]["masking"] == "SINGLE"
    assert d["designInfo"]["maskingInfo"]["whoMasked"] == ["OUTCOMES_ASSESSOR"]
    assert d["enrollmentInfo"] == {"count": 24, "type": "ACTUAL"}
    assert ps["armsInterventionsModule"]["armGroups"][0]["interventionNames"] == ["Drug: Psilocybin"]
    el = ps["eligibilityModule"]
    assert el["sex"] == "ALL" and el["healthyVolunteers"] is False
    assert (el["minimumAge"], el["maximumAge"]) == ("21 Years", "75 Years")
    assert el["eligibilityCriteria"].startswith("Inclusion Criteria:\n\n  -  21 to 75 years old\n")
    assert "stdAges" not in el  # v2 derives age groups; the classic record does not state them
    assert "referencesModule" not in ps  # the record cites nothing
    loc = ps["contactsLocationsModule"]["locations"][0]
    assert loc == {"facility": "Behavioral Pharmacology Research Unit, Johns Hopkins Bayview Medical Center",
                   "city": "Baltimore", "state": "Maryland", "zip": "21224", "country": "United States"}
    assert study["derivedSection"]["interventionBrowseModule"] == {"meshes": [{"term": "Psilocybin"}]}


def test_references_results_type_only_where_the_record_says_results(converted):
    refs = {nct: study["protocolSection"].get("referencesModule", {}).get("references", [])
            for nct, (_r, study) in converted.items()}
    # the links PROVENANCE.md lists, read from the XML
    assert [(r["pmid"], r.get("type")) for r in refs["NCT00920387"]] == [("24594678", "RESULT")]
    assert [(r["pmid"], r.get("type")) for r in refs["NCT00090064"]] == [("20643699", "RESULT"), ("23172889", "RESULT")]
    assert [(r["pmid"], r.get("type")) for r in refs["NCT00802282"]] == [
        ("16826400", None), ("18593735", None), ("18593734", None)]
    rec = study_record(converted["NCT00090064"][1], raw_file="raw/x.json", search_ids=["s"])
    assert rec["results_pmids"] == ["20643699", "23172889"]
    rec = study_record(converted["NCT00802282"][1], raw_file="raw/x.json", search_ids=["s"])
    assert rec["results_pmids"] == []  # background/derived references are not results


def test_bad_records_fail_with_file_and_element(tmp_path):
    text = (CLASSIC / "NCT03181529.xml").read_text(encoding="utf-8")
    bad = tmp_path / "status.xml"
    bad.write_text(text.replace("<overall_status>Active, not recruiting", "<overall_status>Paused"), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"status\.xml: <overall_status>: value 'Paused' is not in"):
        cc.read_classic_xml(bad)
    extra = tmp_path / "extra.xml"
    extra.write_text(text.replace("<number_of_arms>", "<why_stopped>x</why_stopped><number_of_arms>"), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"extra\.xml: <why_stopped>: element is not converted"):
        cc.read_classic_xml(extra)
    broken = tmp_path / "broken.xml"
    broken.write_text(text.replace("</brief_title>", ""), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"broken\.xml: line \d+, column \d+: not well-formed"):
        cc.read_classic_xml(broken)
    date = tmp_path / "date.xml"
    date.write_text(text.replace("June 8, 2017</study_first_posted>", "2017-06-08</study_first_posted>"),
                    encoding="utf-8")
    with pytest.raises(CorpusError, match=r"<study_first_posted>: date '2017-06-08'"):
        cc.read_classic_xml(date)


def test_processed_date_is_the_download_date():
    for path in FILES:
        assert cc.processed_date(ET.parse(path).getroot(), str(path)) == dt.date(2020, 7, 28)


@pytest.fixture(scope="module")
def classic_server():
    corpus = load_corpus(ctgov_classic_xml=[CLASSIC])
    assert corpus.ctgov_data_timestamp() == "2020-07-28T00:00:00"
    with CtgovEmulator(corpus, data_timestamp=corpus.ctgov_data_timestamp()) as emu:
        yield emu


def _all(emu, **params):
    r = requests.get(emu.base_url + "/studies", params={**params, "pageSize": 1000, "countTotal": "true"}, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "nextPageToken" not in body
    return body["totalCount"], [s["protocolSection"]["identificationModule"]["nctId"] for s in body["studies"]]


def test_served_over_http_with_the_2020_data_timestamp(classic_server):
    r = requests.get(classic_server.base_url + "/version", timeout=10)
    assert r.json()["dataTimestamp"] == "2020-07-28T00:00:00"
    r = requests.get(classic_server.base_url + "/studies/NCT03181529", timeout=10)
    assert r.json()["protocolSection"]["statusModule"]["overallStatus"] == "ACTIVE_NOT_RECRUITING"


@pytest.mark.parametrize("search_id, completed, not_completed", [
    ("ctgov_psilocybin", ["NCT00302744", "NCT00802282"], ["NCT03181529", "NCT03429075"]),
    ("ctgov_lsd", ["NCT00920387", "NCT01878942"], []),
    ("ctgov_mdma", ["NCT00090064", "NCT01771874"], ["NCT03537014", "NCT04077437"]),
    ("ctgov_ketamine", ["NCT01306760", "NCT02085577"], []),
])
def test_the_protocols_registry_searches_find_the_completed_trials(classic_server, project_dir, search_id, completed,
                                                                   not_completed):
    """The paper's window (first posted before 2020) finds exactly the completed trials that
    PROVENANCE.md lists per drug; the living-review refresh window (first posted 2020-2025)
    finds none of these records, all first posted 2004-2019."""
    from reprisma.protocol import ctgov_params, load_protocol

    spec = next(s for s in load_protocol(project_dir / "config" / "config.yaml").config["searches"]
                if s["id"] == search_id)
    original = ctgov_params(spec, (spec["limits"].get("first_posted_from"), spec["limits"]["first_posted_to"]))
    assert original["filter.advanced"] == "AREA[StudyFirstPostDate]RANGE[MIN,2019-12-31]"
    assert _all(classic_server, **original) == (2, completed)
    without_status = {k: v for k, v in original.items() if k != "filter.overallStatus"}
    assert _all(classic_server, **without_status)[1] == sorted(completed + not_completed)
    refresh = ctgov_params(spec, ("2020-01-01", "2025-12-31"))
    assert _all(classic_server, **refresh) == (0, [])


def test_readme_mapping_table_lists_every_row(project_dir):
    readme = (project_dir / "scripts" / "reprisma" / "emulator" / "README.md").read_text(encoding="utf-8")
    for classic, v2, _kind in cc.FIELD_MAP:
        assert f"| `{classic}` | `{v2}` |" in readme, (classic, v2)
    for classic in cc.UNMAPPED:
        assert f"- `{classic}`:" in readme
