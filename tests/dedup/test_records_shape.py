"""The pipeline's record schema as input: real PubMed records (PsyNamic refreshes, tests/data/psynamic)
and a real ClinicalTrials.gov registration (tests/fixtures)."""
import json
from pathlib import Path

import pandas as pd

from reprisma.dedup import deduplicate, link_studies

TESTS = Path(__file__).resolve().parents[1]
PSY = TESTS / "data" / "psynamic"
FILES = ["pubmed_results_20250306_subset.csv", "pubmed_results_20250813_subset.csv"]


def _authors(text: str) -> list[str]:
    """'M. Jian, Y. Chen' -> ['Jian M', 'Chen Y'] (the record schema's 'Surname Initials')."""
    out = []
    for name in [n.strip() for n in text.split(",") if n.strip()]:
        parts = name.split()
        initials = "".join(p[0] for p in parts[:-1] if p[0].isalpha())
        out.append(f"{parts[-1]} {initials}".strip())
    return out


def psynamic_records() -> pd.DataFrame:
    rows = []
    for f in FILES:
        df = pd.read_csv(PSY / f, dtype=str, keep_default_na=False)
        for n, r in enumerate(df.itertuples(index=False), start=1):
            rows.append({
                "record_id": f"import:{f}:{n}", "source": "import", "search_ids": ["psynamic"],
                "raw_file": f, "pmid": r.pubmed_id, "pmcid": None, "doi": r.doi or None, "nct_ids": [],
                "title": r.title, "abstract": r.abstract or None, "authors": _authors(r.authors),
                "journal": None, "journal_abbrev": None, "volume": None, "issue": None, "pages": None,
                "year": int(r.year) if r.year.isdigit() else None, "publication_types": [],
            })
    return pd.DataFrame(rows)


def test_same_pmid_across_refreshes_is_one_record():
    recs = psynamic_records()
    res = deduplicate(recs)
    groups = res.groups()
    pm = dict(zip(recs["record_id"], recs["pmid"]))
    shared = set(pd.read_csv(PSY / FILES[0], dtype=str)["pubmed_id"]) & set(pd.read_csv(PSY / FILES[1], dtype=str)["pubmed_id"])
    assert len(shared) == 3
    assert sorted(pm[g[0]] for g in groups) == sorted(shared)
    assert all(len(g) == 2 and pm[g[0]] == pm[g[1]] for g in groups)
    assert set(res.explanations["rule"]) == {"pmid"}
    assert len(res.representatives) == len(recs) - 3


def test_doi_rule_when_pmid_missing():
    recs = psynamic_records()
    # Drop the PMID of the later copies: the DOI (plus title agreement) must still find them.
    later = recs["record_id"].str.contains(FILES[1])
    recs.loc[later, "pmid"] = None
    res = deduplicate(recs)
    assert len(res.groups()) == 3
    assert set(res.explanations["rule"]) <= {"doi", "title+authors", "title+authors+year"}
    assert "doi" in set(res.explanations["rule"])


def test_representative_prefers_pubmed_record():
    recs = psynamic_records()
    recs.loc[recs["record_id"].str.contains(FILES[1]), "pmid"] = None
    res = deduplicate(recs)
    rep_ids = set(res.representatives["record_id"])
    for g in res.groups():
        with_pmid = [rid for rid in g if FILES[0] in rid]
        assert with_pmid[0] in rep_ids


def test_link_studies_reports_and_registration():
    recs = psynamic_records()
    study = json.loads((TESTS / "fixtures" / "clinicaltrials" / "mcode" / "NCT02513394.json").read_text())
    nct = study["protocolSection"]["identificationModule"]["nctId"]
    reg = {c: None for c in recs.columns}
    reg.update({"record_id": f"ctgov:{nct}", "source": "ctgov", "search_ids": ["ctgov"], "raw_file": "NCT02513394.json",
                "title": study["protocolSection"]["identificationModule"].get("briefTitle", ""), "nct_ids": [nct],
                "authors": [], "publication_types": []})
    recs = pd.concat([recs, pd.DataFrame([reg])], ignore_index=True)
    res = deduplicate(recs)
    table = link_studies(recs, res.clusters)
    row = table[table["record_id"] == f"ctgov:{nct}"].iloc[0]
    assert (row["study_id"], row["role"], row["linked_by"]) == (nct, "registration", "registration")
    # PMID 39899368 is in both refreshes and names NCT02422290 in its abstract: one study, two report records.
    s = table[table["study_id"] == "NCT02422290"]
    assert len(s) == 2 and set(s["role"]) == {"report"} and set(s["linked_by"]) == {"nct_id"}
    # Records naming no trial are their own study; duplicates share it (the cluster id).
    plain = table[table["linked_by"] == "none"]
    assert plain["study_id"].nunique() == len(res.representatives) - table[table["linked_by"] != "none"]["record_id"].map(
        dict(zip(res.clusters["record_id"], res.clusters["cluster_id"]))).nunique()


def test_pipeline_rows(tmp_path):
    from reprisma.dedup import pipeline_rows

    recs = psynamic_records()
    rows, result = pipeline_rows(recs.to_dict("records"), overrides_path=str(tmp_path / "absent.tsv"))
    assert [r["record_id"] for r in rows] == sorted(recs["record_id"])
    assert sum(r["representative"] for r in rows) == len(recs) - 3
    assert {r["rule"] for r in rows if not r["representative"]} == {"pmid"}
    assert all(r["rule"] == "" for r in rows if r["representative"])
