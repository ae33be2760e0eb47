"""config/study_links.tsv in the real workflow (Snakemake in a subprocess, replaying the shipped
example snapshot offline): an input of the screening stage, validated with file and line, and a
bad file changes nothing already published."""

import json

from tests.workflow.conftest import run_snakemake

HEADER = "action\trecord_id_a\trecord_id_b\treason\treviewer\n"


def test_study_links_file_is_tracked_and_validated(example_project):
    work = example_project
    run_snakemake(work, block_sockets=True)
    records = [json.loads(line) for line in (work / "results" / "greenway2020-update" / "records.jsonl").open()]
    a, b = sorted(r["record_id"] for r in records if r["source"] == "pubmed" and not r["nct_ids"])[:2]
    published = (work / "reports" / "counts.json").read_bytes()

    links = work / "config" / "study_links.tsv"
    links.write_text(HEADER + "# a reviewer's decision\n" + f"link\tpubmed:1\t{b}\ttwo reports of one cohort\tana\n"
                     + f"relate\t{a}\t{b}\tx\tana\n")
    out = run_snakemake(work, check=False, block_sockets=True)
    assert out.returncode != 0
    # rows are read and checked first (the bad action), then the ids against the capture
    assert "config/study_links.tsv:4: action: 'relate' is not one of ['link', 'unlink']" in out.stderr
    assert (work / "reports" / "counts.json").read_bytes() == published
    links.write_text(HEADER + "# a reviewer's decision\n" + f"link\tpubmed:1\t{b}\ttwo reports of one cohort\tana\n")
    out = run_snakemake(work, check=False, block_sockets=True)
    assert out.returncode != 0
    assert "config/study_links.tsv:3: record_id_a 'pubmed:1' is not a record of this capture" in out.stderr
    assert (work / "reports" / "counts.json").read_bytes() == published

    links.write_text(HEADER + f"link\t{a}\t{b}\ttwo reports of one cohort\tana\n")
    out = run_snakemake(work, block_sockets=True)
    assert "rule screening:" in out.stdout + out.stderr  # the file is an input of the stage
    assert (work / "reports" / "counts.json").read_bytes() == published  # nothing is included yet
    check = run_snakemake(work, "verify", "--forcerun", "verify", block_sockets=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
