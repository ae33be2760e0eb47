"""The shipped example snapshot: replay is offline, up to date the second time, byte-identical,
and verify catches every kind of tampering, naming the file."""

import gzip
import zipfile
import json
import shutil
from pathlib import Path

import pytest

from tests.workflow.conftest import PROJECT, run_snakemake

pytestmark = pytest.mark.workflow

REPORT_FILES = ["report.html", "prisma.svg", "counts.json", "prisma2020.csv", "included.csv", "included.ris",
                "screening_conflicts.tsv", "to_screen.csv", "to_screen.ris"]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    work = tmp_path_factory.mktemp("replay") / "example"
    work.mkdir()
    for name in ("config", "snapshots"):
        shutil.copytree(PROJECT / name, work / name)
    first = run_snakemake(work, block_sockets=True)
    return work, first


def test_replay_reproduces_the_committed_reports_byte_for_byte(replayed):
    work, _ = replayed
    for name in REPORT_FILES:
        assert (work / "reports" / name).read_bytes() == (PROJECT / "reports" / name).read_bytes(), name


def test_second_run_does_nothing(replayed):
    work, _ = replayed
    second = run_snakemake(work, block_sockets=True)
    assert "Nothing to be done" in second.stdout + second.stderr


def test_new_code_reruns_the_stages(tmp_path):
    """A changed package (here: a copy with one comment added) makes the derived stages run again;
    the same code twice does nothing."""
    work = tmp_path / "example"
    work.mkdir()
    for name in ("config", "snapshots"):
        shutil.copytree(PROJECT / name, work / name)
    release = tmp_path / "release"  # the package finds its schemas at ../../workflow/schemas
    shutil.copytree(PROJECT / "scripts" / "reprisma", release / "scripts" / "reprisma",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PROJECT / "workflow" / "schemas", release / "workflow" / "schemas")
    code = release / "scripts"
    run_snakemake(work, block_sockets=True, pythonpath=code)
    again = run_snakemake(work, block_sockets=True, pythonpath=code)
    assert "Nothing to be done" in again.stdout + again.stderr
    with open(code / "reprisma" / "dedup" / "match.py", "a", encoding="utf-8") as fh:
        fh.write("\n# a new release of the dedup engine\n")
    changed = run_snakemake(work, block_sockets=True, pythonpath=code)
    log = changed.stdout + changed.stderr
    assert "Nothing to be done" not in log
    for rule in ("records", "dedup", "screening", "counts", "report"):
        assert f"rule {rule}:" in log, rule
    assert (work / "reports" / "counts.json").read_bytes() == (PROJECT / "reports" / "counts.json").read_bytes()


def test_example_is_marked_and_bannered(replayed):
    work, _ = replayed
    counts = json.loads((work / "reports" / "counts.json").read_text())
    assert counts["capture"]["kind"] == "example"
    html = (work / "reports" / "report.html").read_text()
    assert "make refresh" in html and "not a capture of PubMed" in html


def _verify(work):
    return run_snakemake(work, "verify", "--forcerun", "verify", block_sockets=True, check=False)


def _capture_dir(work) -> Path:
    lock = json.loads((work / "snapshots" / "greenway2020-update" / "LOCK").read_text())
    return work / "snapshots" / "greenway2020-update" / lock["capture_id"]


# the published files `snakemake --report` shows (common.smk's REPORT_CAPTIONS), with their captions
CAPTIONED = {"report.html": "report_html.rst", "prisma.svg": "prisma_svg.rst", "counts.json": "counts_json.rst",
             "prisma2020.csv": "prisma2020_csv.rst", "search_appendix.md": "search_appendix.rst",
             "included.csv": "included_csv.rst", "to_screen.csv": "to_screen.rst",
             "screening_conflicts.tsv": "screening_conflicts.rst", "dedup_explanations.tsv": "dedup.rst",
             "dedup_maybe.tsv": "dedup.rst", "refresh_diff.tsv": "refresh_diff.rst"}


def test_snakemake_report_bundles_the_published_files_with_captions(replayed):
    work, _ = replayed
    out = run_snakemake(work, "--report", "bundle.zip", block_sockets=True)
    assert "Report created" in out.stdout + out.stderr
    with zipfile.ZipFile(work / "bundle.zip") as bundle:
        data = {Path(n).name: bundle.read(n) for n in bundle.namelist() if "/data/raw/" in n}
        page = bundle.read("bundle/report.html").decode("utf-8")
    assert set(data) == set(CAPTIONED)
    for name, body in data.items():
        assert body == (work / "reports" / name).read_bytes(), name
    captions = PROJECT / "workflow" / "report"
    for caption in ["workflow.rst", *CAPTIONED.values()]:
        # the caption's opening words, rendered from reStructuredText into the bundle's page
        opening = (captions / caption).read_text().splitlines()[0].replace("``", "")[:40]
        assert opening in page, caption


@pytest.fixture
def fresh(tmp_path):
    work = tmp_path / "example"
    work.mkdir()
    for name in ("config", "snapshots", "reports"):
        shutil.copytree(PROJECT / name, work / name)
    return work


def test_verify_passes_on_the_committed_snapshot(fresh):
    out = _verify(fresh)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "OK: snapshot, manifest and counts agree" in out.stdout + out.stderr


def test_verify_fails_naming_a_changed_raw_file(fresh):
    raw = sorted((_capture_dir(fresh) / "raw").rglob("efetch-*.xml.gz"))[0]
    data = bytearray(raw.read_bytes())
    data[len(data) // 2] ^= 0x01
    raw.write_bytes(bytes(data))
    out = _verify(fresh)
    assert out.returncode != 0
    assert f"{raw.name}: content changed" in out.stderr


def test_verify_fails_after_a_manifest_count_is_edited(fresh):
    manifest_path = _capture_dir(fresh) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["searches"][0]["records_received"] += 1
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    out = _verify(fresh)
    assert out.returncode != 0
    assert "manifest.json: manifest edited after it was locked" in out.stderr
    sid = manifest["searches"][0]["search_id"]
    assert f"search {sid}: manifest says {manifest['searches'][0]['records_received']} records received" in out.stderr


def test_verify_fails_after_a_record_is_removed(fresh):
    """Drop one <PubmedArticle> from a raw file (and even re-hash it into the manifest): still caught."""
    capture = _capture_dir(fresh)
    raw = sorted((capture / "raw").rglob("efetch-*.xml.gz"))[0]
    body = gzip.decompress(raw.read_bytes()).decode()
    start = body.index("<PubmedArticle>")
    end = body.index("</PubmedArticle>", start) + len("</PubmedArticle>")
    raw.write_bytes(gzip.compress((body[:start] + body[end:]).encode(), mtime=0))
    out = _verify(fresh)
    assert out.returncode != 0
    assert f"{raw.name}: content changed" in out.stderr
    assert "records received, raw files hold" in out.stderr


def test_verify_fails_when_the_committed_ledger_drifts(fresh):
    path = fresh / "reports" / "counts.json"
    counts = json.loads(path.read_text())
    counts["prisma"]["identification"]["duplicates_removed"] += 3
    path.write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n")
    out = _verify(fresh)
    assert out.returncode != 0
    assert "~ prisma.identification.duplicates_removed: committed" in out.stderr
