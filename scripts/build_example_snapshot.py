#!/usr/bin/env python
"""Build the shipped example snapshot: the real capture code against reprisma's emulators.

The emulators serve only real records: PubMed records from PsyNamic's living-review exports
(the team's shared data, passed with --psynamic) and from Biopython's and metapub's saved efetch responses
(tests/fixtures/pubmed), and twelve genuine ClinicalTrials.gov records of psilocybin, LSD, MDMA and
ketamine trials from the registry's classic-XML bulk download processed on 2020-07-28
(tests/fixtures/ctgov-2020, converted to API v2 JSON field by field by
reprisma.emulator.ctgov_classic; the CT.gov emulator's dataTimestamp is that day). The capture
is marked ``capture: example`` and the report says in a banner that its counts are not a
capture of PubMed or ClinicalTrials.gov.

    .venv/bin/python scripts/build_example_snapshot.py --psynamic DIR [--force]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "scripts"))

from reprisma.emulator import CtgovEmulator, EutilsEmulator, load_corpus  # noqa: E402
from reprisma.protocol import load_protocol  # noqa: E402
from reprisma.search.capture import capture  # noqa: E402
from reprisma.snapshot import LOCK, atomic_write_bytes, sha256_file  # noqa: E402

FIXTURES = PROJECT / "tests" / "fixtures"
PUBMED_XML = sorted((FIXTURES / "pubmed" / "biopython").glob("pubmed[0-9].xml")) + \
    sorted((FIXTURES / "pubmed" / "metapub").glob("pmid_*.xml"))
# Only these registry records are served (not the v2 JSON fixtures, none of which is a psychedelic
# trial and all of which are years newer), so the data timestamp can say how old the data is.
CTGOV_CLASSIC = sorted((FIXTURES / "ctgov-2020").glob("NCT*.xml"))
CTGOV_WHAT = ("ClinicalTrials.gov: 12 genuine registry records of psilocybin, LSD, MDMA and ketamine trials "
              "(tests/fixtures/ctgov-2020: NCT00090064, NCT00302744, NCT00802282, NCT00920387, NCT01306760, "
              "NCT01771874, NCT01878942, NCT02085577, NCT03181529, NCT03429075, NCT03537014, NCT04077437), "
              "from the registry's classic-XML bulk download processed on 2020-07-28, hand-picked (not the "
              "result of a search) and converted to API v2 JSON field by field by the emulator")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = os.environ.get("REPRISMA_PSYNAMIC_DIR")
    ap.add_argument("--psynamic", type=Path, default=Path(default) if default else None, required=not default,
                    help="folder with PsyNamic's three CSV exports (the team keeps them in its shared data "
                         "folder; default: $REPRISMA_PSYNAMIC_DIR)")
    ap.add_argument("--config", type=Path, default=PROJECT / "config" / "config.yaml")
    ap.add_argument("--snapshot-root", type=Path, default=PROJECT / "snapshots")
    ap.add_argument("--capture-id", default="example")
    ap.add_argument("--force", action="store_true", help="replace an existing example capture")
    args = ap.parse_args(argv)

    psynamic = sorted(args.psynamic.glob("*.csv"))
    if not psynamic:
        ap.error(f"no PsyNamic CSV files in {args.psynamic}")
    inputs = [*PUBMED_XML, *psynamic, *CTGOV_CLASSIC]
    corpus = load_corpus(pubmed_xml=PUBMED_XML, psynamic_csv=psynamic, ctgov_classic_xml=CTGOV_CLASSIC)
    data_timestamp = corpus.ctgov_data_timestamp()  # the day the registry processed the records

    protocol = load_protocol(args.config)
    target = args.snapshot_root / protocol.id / args.capture_id
    readme = None  # the snapshot's README (written by hand, committed) survives a rebuild
    if target.exists():
        if not args.force:
            ap.error(f"{target} exists; pass --force to replace it")
        if (target / "README.md").exists():
            readme = (target / "README.md").read_bytes()
        shutil.rmtree(target)

    provenance = {
        "what": "example capture: reprisma's capture code against reprisma.emulator serving real records; "
                "NOT a capture of PubMed or ClinicalTrials.gov. Its ClinicalTrials.gov records are 12 genuine "
                "psilocybin, LSD, MDMA and ketamine trial registrations from the registry's bulk download "
                "processed on 2020-07-28 (hand-picked, not a search result)",
        "emulator_corpus": [
            {"file": (p.relative_to(PROJECT) if p.is_relative_to(PROJECT) else Path("shared/data/psynamic") / p.name).as_posix(),
             "sha256": sha256_file(p)} for p in inputs],
        "ctgov_records": CTGOV_WHAT,
        "ctgov_data_timestamp": data_timestamp,
        "emulator_settings": {
            "unknown_language_matches": True,
            "why": "PsyNamic's exports carry no article language; the emulator lets those records through "
                   "english[la] rather than drop them all. Real PubMed applies the limit itself. reprisma's "
                   "automated eligibility keeps records with no language for human screening.",
        },
        "how_to_rebuild": "make example-snapshot",
    }
    with EutilsEmulator(corpus, unknown_language_matches=True) as eutils, CtgovEmulator(corpus, data_timestamp=data_timestamp) as ctgov:
        from reprisma.protocol import deep_update, validate_config

        live = validate_config(deep_update(protocol.config, {"services": {
            "eutils": {"base_url": eutils.base_url}, "ctgov": {"base_url": ctgov.base_url}}}),
            protocol.source_path)
        out = capture(live, args.snapshot_root, args.capture_id, kind="example", provenance=provenance)
    if readme is not None:
        atomic_write_bytes(out / "README.md", readme)
    # the emulator's loopback address is not part of the audit trail
    print(f"example snapshot written to {out} and locked in {out.parent / LOCK}")


if __name__ == "__main__":
    main()
