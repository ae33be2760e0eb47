"""The seed protocol loads; every kind of bad protocol gives one line naming the key."""

import copy
import subprocess
import sys

import pytest
import yaml

from reprisma.protocol import ProtocolError, load_protocol, pubmed_query, validate_config

CONFIG = "config/greenway2020.yaml"   # the review as published
UPDATE = "config/config.yaml"        # its living update (extends it)


@pytest.fixture
def seed(project_dir):
    return yaml.safe_load((project_dir / CONFIG).read_text())


def test_seed_protocol_encodes_the_papers_methods(project_dir):
    p = load_protocol(project_dir / CONFIG)
    assert p.id == "greenway2020"
    pubmed = [s for s in p.config["searches"] if s["source"] == "pubmed"]
    assert [s["term"] for s in pubmed] == [
        "psychedelic*", "antidepressant AND psychotherapy AND review AND (depression OR mood)"]
    assert [s["reported_count"] for s in pubmed] == [1038, 2122]
    assert all(s["limits"]["date_to"] == "2019-12-31" and s["limits"]["languages"] == ["english"] for s in pubmed)
    drugs = [s["intervention"] for s in p.config["searches"] if s["source"] == "ctgov"]
    assert [d.split()[0].strip('"') for d in drugs] == ["psilocybin", "lysergic", "MDMA", "ketamine"]
    assert all(s["overall_status"] == ["COMPLETED"] for s in p.config["searches"] if s["source"] == "ctgov")
    assert p.config["reported"]["included_publications"] == 239
    # every assumption names a key that exists next to it
    keys = [a["key"] for a in p.assumptions()]
    assert "searches[0](psychedelics).date_field" in keys and len(keys) >= 10


def test_written_query_agrees_with_structured_fields(project_dir):
    p = load_protocol(project_dir / CONFIG)
    s = p.searches[0]
    assert s.query == 'psychedelic* AND english[la] AND ("1800/01/01"[pdat] : "2019/12/31"[pdat])'
    assert s.params == {"db": "pubmed", "term": s.query}


def test_refresh_moves_every_window(project_dir):
    p = load_protocol(project_dir / UPDATE)
    assert {s.window for s in p.searches if s.source == "pubmed"} == {("2020-01-01", "2025-12-31")}
    # registry searches are rerun in full up to the window's end (a trial may have completed since)
    assert {s.window for s in p.searches if s.source == "ctgov"} == {(None, "2025-12-31")}
    assert p.searches[0].query == 'psychedelic* AND english[la] AND ("2020/01/01"[edat] : "2025/12/31"[edat])'
    ct = [s for s in p.searches if s.source == "ctgov"][0]
    assert ct.params["filter.advanced"] == "AREA[StudyFirstPostDate]RANGE[MIN,2025-12-31]"
    assert ct.params["filter.overallStatus"] == "COMPLETED"


def test_hash_changes_with_what_is_sent_only(project_dir, seed):
    a = validate_config(seed)
    b = copy.deepcopy(seed)
    b["searches"][0]["assumptions"]["date_field"] = "reworded"
    b["services"]["eutils"]["base_url"] = "http://127.0.0.1:9/entrez/eutils/"
    assert validate_config(b).searches_sha256() == a.searches_sha256()
    b["searches"][2]["intervention"] = "psilocybin"
    assert validate_config(b).searches_sha256() != a.searches_sha256()


def _error(cfg) -> str:
    with pytest.raises(ProtocolError) as e:
        validate_config(cfg, "config/config.yaml")
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_unknown_key(seed):
    seed["searches"][0]["limits"]["langauge"] = ["english"]
    assert _error(seed) == (
        "config/config.yaml: searches[0].limits.langauge: unknown key "
        "(allowed here: date_field, date_from, date_to, languages)")


def test_unknown_top_level_key(seed):
    seed["screenin"] = {}
    assert _error(seed).startswith("config/config.yaml: screenin: unknown key")


def test_wrong_type(seed):
    seed["searches"][0]["reported_count"] = "1038"
    assert _error(seed) == "config/config.yaml: searches[0].reported_count: expected ['integer', 'null'], got str '1038'"


def test_wrong_value(seed):
    seed["mode"] = "online"
    assert _error(seed) == "config/config.yaml: mode: expected one of replay, live, got 'online'"


def test_empty_query(seed):
    seed["searches"][1]["term"] = "   "
    assert _error(seed) == "config/config.yaml: searches[1].term: must not be empty"


def test_empty_registry_query(seed):
    seed["searches"][3]["intervention"] = ""
    assert _error(seed) == "config/config.yaml: searches[3].intervention: must not be empty"


def test_date_range_reversed(seed):
    seed["searches"][0]["limits"]["date_from"] = "2021-01-01"
    assert _error(seed) == (
        "config/config.yaml: searches[0].limits: date range reversed (2021-01-01 is after 2019-12-31)")


def test_refresh_range_reversed(project_dir):
    update = load_protocol(project_dir / UPDATE).config
    update["refresh"]["date_from"] = "2026-01-01"
    assert _error(update) == "config/config.yaml: refresh: date range reversed (2026-01-01 is after 2025-12-31)"


def test_bad_date(seed):
    seed["searches"][0]["limits"]["date_to"] = "31/12/2019"
    assert _error(seed) == "config/config.yaml: searches[0].limits.date_to: expected a date YYYY-MM-DD or null, got '31/12/2019'"


def test_query_drift(seed):
    seed["searches"][0]["term"] = "psychedelic"
    assert _error(seed).startswith("config/config.yaml: searches[0].query: does not match term and limits; expected ")


def test_missing_key(seed):
    del seed["searches"][0]["limits"]
    assert _error(seed) == "config/config.yaml: searches[0].limits: required key is missing"


def test_duplicate_search_id(seed):
    seed["searches"][1]["id"] = "psychedelics"
    seed["searches"][1]["query"] = seed["searches"][1]["query"]
    assert _error(seed) == "config/config.yaml: searches[1].id: duplicate search id 'psychedelics'"


def test_yaml_syntax_error_has_position(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("protocol:\n  id: x\n searches: [\n")
    with pytest.raises(ProtocolError, match=r"config.yaml:3:\d+: not valid YAML"):
        load_protocol(bad)


def test_pubmed_query_shapes():
    lim = {"languages": ["english", "french"], "date_field": "edat"}
    assert pubmed_query("a b", lim, (None, "2019-12-31")) == \
        '(a b) AND (english[la] OR french[la]) AND ("1800/01/01"[edat] : "2019/12/31"[edat])'
    assert pubmed_query("x", {"date_field": "pdat"}, (None, None)) == "x"


def test_snakemake_stops_with_one_line(project_dir, tmp_path):
    """The workflow itself refuses a bad protocol with the key path, before doing anything."""
    cfg = yaml.safe_load((project_dir / CONFIG).read_text())
    cfg["searches"][0]["limits"]["langauge"] = ["english"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(project_dir / "workflow" / "Snakefile"), "--configfile", str(bad),
         "-n", "--cores", "1", "--directory", str(tmp_path)],
        capture_output=True, text=True, cwd=project_dir)
    assert out.returncode != 0
    assert "searches[0].limits.langauge: unknown key" in out.stderr
