"""``python -m reprisma.emulator`` serves both emulators until interrupted."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import requests

from .conftest import CTGOV, PSYNAMIC_A, PUBMED


def test_cli_serves_both_and_stops_on_ctrl_c():
    cmd = [sys.executable, "-m", "reprisma.emulator", "--pubmed-xml", str(PUBMED / "metapub"),
           "--psynamic-csv", str(PSYNAMIC_A), "--ctgov-json", str(CTGOV / "cyanheads"), "--no-rate-limit"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first, second = proc.stdout.readline(), proc.stdout.readline()
        eutils = re.search(r"(http://127\.0\.0\.1:\d+/entrez/eutils/)", first).group(1)
        ctgov = re.search(r"(http://127\.0\.0\.1:\d+/api/v2)", second).group(1)
        r = requests.get(eutils + "esearch.fcgi", params={"db": "pubmed", "term": "levin aw[au]"}, timeout=10)
        assert "<Id>38483940</Id>" in r.text
        v = requests.get(ctgov + "/version", timeout=10).json()
        assert v["apiVersion"] == "2.0.5"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_reports_a_bad_file(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<eSearchResult/>")
    out = subprocess.run([sys.executable, "-m", "reprisma.emulator", "--pubmed-xml", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "bad.xml: line 1: root element is <eSearchResult>" in out.stderr


def test_cli_unknown_language_matches_lets_psynamic_records_through_a_language_limit():
    """PsyNamic rows carry no language: english[la] finds them only with the flag, as in the example."""
    def count(*flags):
        cmd = [sys.executable, "-m", "reprisma.emulator", "--psynamic-csv", str(PSYNAMIC_A), "--no-rate-limit", *flags]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            eutils = re.search(r"(http://127\.0\.0\.1:\d+/entrez/eutils/)", proc.stdout.readline()).group(1)
            r = requests.get(eutils + "esearch.fcgi", params={"db": "pubmed", "term": "levin aw[au] AND english[la]"},
                             timeout=10)
            return int(re.search(r"<Count>(\d+)</Count>", r.text).group(1))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)

    assert count() == 0
    assert count("--unknown-language-matches") == 1


def test_cli_serves_classic_xml_with_its_processing_day():
    cmd = [sys.executable, "-m", "reprisma.emulator", "--ctgov-classic-xml", str(CTGOV.parent / "ctgov-2020")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        second = proc.stdout.readline()
        assert "(12 studies)" in second
        ctgov = re.search(r"(http://127\.0\.0\.1:\d+/api/v2)", second).group(1)
        assert requests.get(ctgov + "/version", timeout=10).json()["dataTimestamp"] == "2020-07-28T00:00:00"
        r = requests.get(ctgov + "/studies", params={"query.intr": "psilocybin", "filter.overallStatus": "COMPLETED"},
                         timeout=10)
        assert [s["protocolSection"]["identificationModule"]["nctId"] for s in r.json()["studies"]] == [
            "NCT00302744", "NCT00802282"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_rejects_a_bad_data_timestamp():
    out = subprocess.run([sys.executable, "-m", "reprisma.emulator", "--ctgov-classic-xml",
                          str(CTGOV.parent / "ctgov-2020"), "--data-timestamp", "July 2020"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--data-timestamp: data_timestamp 'July 2020' is not yyyy-MM-ddTHH:mm:ss" in out.stderr
