"""Update protocols: `extends:` merges a protocol over the one it updates and says what changed."""

import shutil
import subprocess
import sys

import pytest
import yaml

from reprisma.protocol import ProtocolError, load_protocol

BASE = {
    "protocol": {"id": "base", "title": "Base review"},
    "searches": [
        {"id": "s1", "source": "pubmed", "term": "alpha",
         "limits": {"languages": ["english"], "date_field": "pdat", "date_from": None, "date_to": "2019-12-31"},
         "query": 'alpha AND english[la] AND ("1800/01/01"[pdat] : "2019/12/31"[pdat])'},
        {"id": "t1", "source": "ctgov", "intervention": "drug", "overall_status": ["COMPLETED"]},
    ],
    "reported": {"included_publications": 10},
}


def write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_update_inherits_everything_and_lists_each_override(tmp_path):
    write(tmp_path / "base.yaml", BASE)
    update = write(tmp_path / "update.yaml", {
        "extends": "base.yaml",
        "protocol": {"id": "base-update"},
        "searches": [
            {"id": "t1", "overall_status": ["COMPLETED", "TERMINATED"],
             "assumptions": {"overall_status": "Terminated trials may have reported results."}},
            {"id": "s2", "source": "pubmed", "term": "beta",
             "limits": {"date_field": "pdat", "date_to": None}, "query": "beta"},
        ],
    })
    p = load_protocol(update)
    assert p.id == "base-update"
    assert p.config["protocol"]["title"] == "Base review"            # inherited
    assert [s.id for s in p.searches] == ["s1", "t1", "s2"]          # merged by id, new one appended
    assert p.config["searches"][0]["term"] == "alpha"
    assert p.config["searches"][1]["overall_status"] == ["COMPLETED", "TERMINATED"]
    assert p.config["searches"][1]["intervention"] == "drug"          # only the named key changed
    inh = p.inherits
    assert inh["protocol_id"] == "base" and len(inh["sha256"]) == 64
    by_key = {o["key"]: o for o in inh["overrides"]}
    assert set(by_key) == {"protocol.id", "searches[t1].overall_status", "searches[s2]"}
    assert by_key["protocol.id"] == {"key": "protocol.id", "inherited": "base", "value": "base-update",
                                     "change": "changed", "assumption": None}
    assert by_key["searches[t1].overall_status"]["assumption"] == "Terminated trials may have reported results."
    assert by_key["searches[s2]"]["change"] == "added"


def test_extends_by_protocol_id_and_chains(tmp_path):
    write(tmp_path / "base.yaml", BASE)
    write(tmp_path / "round2.yaml", {"extends": "base", "protocol": {"id": "round2"},
                                     "reported": {"included_publications": 12}})
    r3 = write(tmp_path / "round3.yaml", {"extends": "round2.yaml", "protocol": {"id": "round3"}})
    p = load_protocol(r3)
    assert p.config["reported"]["included_publications"] == 12
    assert p.inherits["protocol_id"] == "round2"


def test_a_protocol_cannot_extend_itself(tmp_path):
    write(tmp_path / "a.yaml", {**BASE, "extends": "b.yaml"})
    write(tmp_path / "b.yaml", {"extends": "a.yaml", "protocol": {"id": "b", "title": "B"}})
    with pytest.raises(ProtocolError, match="leads back to itself"):
        load_protocol(tmp_path / "a.yaml")


def test_missing_base_names_the_file_and_the_reference(tmp_path):
    up = write(tmp_path / "update.yaml", {"extends": "nowhere.yaml", "protocol": {"id": "u", "title": "U"}})
    with pytest.raises(ProtocolError) as e:
        load_protocol(up)
    assert str(e.value).startswith(f"{up}: extends: 'nowhere.yaml': no such file")


def test_an_override_is_validated_like_any_protocol(tmp_path):
    write(tmp_path / "base.yaml", BASE)
    up = write(tmp_path / "update.yaml", {"extends": "base.yaml", "searches": [{"id": "s1", "term": "gamma"}]})
    with pytest.raises(ProtocolError, match=r"update.yaml: searches\[0\].query: does not match term and limits"):
        load_protocol(up)


def test_shipped_update_protocol_extends_the_published_one(project_dir):
    paper = load_protocol(project_dir / "config" / "greenway2020.yaml")
    update = load_protocol(project_dir / "config" / "config.yaml")
    assert paper.refresh is None and update.refresh is not None
    assert update.inherits["protocol_id"] == paper.id
    keys = {o["key"] for o in update.inherits["overrides"]}
    assert {"refresh", "known_items", "searches[psychedelic_drugs]"} <= keys
    # every search of the paper is still there, unchanged but for the update window
    assert [s["id"] for s in paper.config["searches"]] == [s["id"] for s in update.config["searches"]][:6]
    assert update.known_items[0]["pmid"] == "38483940"
    # an override the paper leaves open states its assumption
    assert all(o["assumption"] for o in update.inherits["overrides"]
               if o["key"] in ("refresh", "searches[psychedelic_drugs]"))


def test_snakemake_configfile_loads_that_protocol_alone(project_dir, tmp_path):
    """--configfile names the protocol; keys of config/config.yaml never leak into it."""
    shutil.copytree(project_dir / "config", tmp_path / "config")
    shutil.copytree(project_dir / "snapshots", tmp_path / "snapshots")
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(project_dir / "workflow" / "Snakefile"), "--configfile",
         "config/greenway2020.yaml", "-n", "--cores", "1", "--directory", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "results/greenway2020/" in out.stdout + out.stderr
    assert "greenway2020-update" not in out.stdout + out.stderr


def test_config_overrides_are_typed_by_the_schema(project_dir):
    """Snakemake's --config hands nested values over as text: a number becomes a number."""
    from reprisma.protocol import coerce_overrides

    assert coerce_overrides({"services": {"eutils": {"batch_size": "5"}, "ctgov": {"page_size": "20"}},
                             "mode": "live", "capture_id": "123"}) == {
        "services": {"eutils": {"batch_size": 5}, "ctgov": {"page_size": 20}}, "mode": "live", "capture_id": "123"}
    p = load_protocol(project_dir / "config" / "config.yaml", {"services": {"eutils": {"batch_size": "5"}}})
    assert p.config["services"]["eutils"]["batch_size"] == 5
    with pytest.raises(ProtocolError, match="batch_size: expected integer, got str 'five'"):
        load_protocol(project_dir / "config" / "config.yaml", {"services": {"eutils": {"batch_size": "five"}}})
