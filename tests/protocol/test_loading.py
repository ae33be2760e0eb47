"""Strict protocol loading: duplicate keys, encoding, YAML syntax and schema errors all name the
file and the line (``file:line: key.path: what``)."""

import subprocess
import sys

import pytest

from reprisma.protocol import ProtocolError, load_protocol, validate_config_file

CONFIG = "config/greenway2020.yaml"  # the published review: a protocol of its own (no extends:)


def _seed_text(project_dir) -> str:
    return (project_dir / CONFIG).read_text(encoding="utf-8")


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    pos = -1
    for _ in range(nth):
        pos = text.index(needle, pos + 1)
    return text.count("\n", 0, pos) + 1


def _error(path) -> str:
    with pytest.raises(ProtocolError) as e:
        load_protocol(path)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_a_second_searches_key_is_an_error_naming_both_lines(project_dir, tmp_path):
    text = _seed_text(project_dir)
    extra = "\nsearches:\n  - id: only_this\n    source: ctgov\n    intervention: x\n"
    bad = tmp_path / "config.yaml"
    bad.write_text(text + extra, encoding="utf-8")
    first, second = _line_of(text, "\nsearches:") + 1, _line_of(text + extra, "\nsearches:", 2) + 1
    assert _error(bad) == (f"{bad}:{second}: searches: duplicate key (first given at line {first}); "
                           "a YAML key counts once, remove or merge one of them")


def test_a_nested_duplicate_key_is_named_by_its_path(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("protocol:\n  id: a\n  title: t\nservices:\n  eutils:\n    batch_size: 10\n    batch_size: 20\n")
    assert _error(bad) == (f"{bad}:7: services.eutils.batch_size: duplicate key (first given at line 6); "
                           "a YAML key counts once, remove or merge one of them")


def test_a_latin1_byte_is_located(project_dir, tmp_path):
    text = _seed_text(project_dir)
    data = text.replace('title: "Integrating', 'title: "Int\xe9grating').encode("latin-1", "replace")
    bad = tmp_path / "config.yaml"
    bad.write_bytes(data)
    line = _line_of(text, 'title: "Integrating')
    assert _error(bad) == (f"{bad}:{line}:14: not UTF-8 (byte 0xe9, as a Latin-1 editor writes é); "
                           "save the file as UTF-8")


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("protocol:\n  id: x\n searches: [\n")
    assert _error(bad).startswith(f"{bad}:3:")


def test_schema_errors_carry_the_line(project_dir, tmp_path):
    text = _seed_text(project_dir)
    bad = tmp_path / "config.yaml"
    bad.write_text(text.replace("batch_size: 500", "batch_size: many"), encoding="utf-8")
    line = _line_of(text, "batch_size: 500")
    assert _error(bad) == f"{bad}:{line}: services.eutils.batch_size: expected integer, got str 'many'"
    bad.write_text(text.replace("      languages: [english]", "      langauges: [english]", 1), encoding="utf-8")
    msg = _error(bad)
    assert msg.startswith(f"{bad}:{_line_of(text, '      languages: [english]')}: searches[0].limits.langauges: unknown key")


def test_semantic_errors_carry_the_line(project_dir, tmp_path):
    text = _seed_text(project_dir)
    bad = tmp_path / "config.yaml"
    bad.write_text(text.replace("- id: antidepressant_psychotherapy", "- id: psychedelics"), encoding="utf-8")
    line = _line_of(text, "- id: antidepressant_psychotherapy")
    assert _error(bad) == f"{bad}:{line}: searches[1].id: duplicate search id 'psychedelics'"


def test_validate_config_file_for_the_workflow(project_dir, tmp_path):
    import yaml

    text = _seed_text(project_dir)
    bad = tmp_path / "config.yaml"
    bad.write_text(text + "\nmode: live\n", encoding="utf-8")
    with pytest.raises(ProtocolError, match=r":\d+: mode: duplicate key \(first given at line \d+\)"):
        validate_config_file(yaml.safe_load(bad.read_text()), bad)
    assert validate_config_file(yaml.safe_load(text), project_dir / CONFIG).id == "greenway2020"


def test_snakemake_refuses_a_duplicate_key(project_dir, tmp_path):
    bad = tmp_path / "dup.yaml"
    bad.write_text(_seed_text(project_dir) + "\nsearches: []\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(project_dir / "workflow" / "Snakefile"), "--configfile", str(bad),
         "-n", "--cores", "1", "--directory", str(tmp_path)],
        capture_output=True, text=True, cwd=project_dir)
    assert out.returncode != 0
    assert "searches: duplicate key (first given at line" in out.stderr
