"""Serve both emulators until Ctrl-C.

    python -m reprisma.emulator --pubmed-xml tests/fixtures/pubmed \\
        --psynamic-csv tests/data/psynamic/*.csv --ctgov-json tests/fixtures/clinicaltrials [--port 8800] \\
        [--unknown-language-matches]
    python -m reprisma.emulator --ctgov-classic-xml tests/fixtures/ctgov-2020

``--port N`` serves E-utilities on N and ClinicalTrials.gov on N+1 (default: two free ports).
``--ctgov-classic-xml`` serves classic-XML registry records converted to v2 JSON; when they are
the only CT.gov records and ``--data-timestamp`` is not given, ``/api/v2/version`` reports the
day the registry processed them (their ``download_date``, e.g. 2020-07-28).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .corpus import CorpusError, load_corpus
from .ctgov import DEFAULT_DATA_TIMESTAMP, CtgovEmulator
from .eutils import EutilsEmulator


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m reprisma.emulator", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pubmed-xml", nargs="*", default=[], metavar="PATH",
                    help="efetch XML files or directories holding them")
    ap.add_argument("--psynamic-csv", nargs="*", default=[], metavar="PATH", help="PsyNamic CSV exports")
    ap.add_argument("--ctgov-json", nargs="*", default=[], metavar="PATH",
                    help="CT.gov v2 study / search-page JSON files or directories")
    ap.add_argument("--ctgov-classic-xml", nargs="*", default=[], metavar="PATH",
                    help="CT.gov classic XML records (<clinical_study>) or directories, served as v2 JSON")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="E-utilities port (CT.gov: port+1); 0 = free ports")
    ap.add_argument("--no-rate-limit", action="store_true", help="do not enforce NCBI's 3/10 requests per second")
    ap.add_argument("--data-timestamp", default=None,
                    help="CT.gov /version dataTimestamp (default: the classic XML's processing day when only "
                         f"classic XML is served, else {DEFAULT_DATA_TIMESTAMP})")
    ap.add_argument("--unknown-language-matches", action="store_true",
                    help="let records without a language through a [la] limit (PsyNamic's exports carry "
                         "none; the shipped example is captured with this on, as its manifest records)")
    args = ap.parse_args(argv)
    try:
        corpus = load_corpus(args.pubmed_xml, args.psynamic_csv, args.ctgov_json, args.ctgov_classic_xml)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    timestamp = args.data_timestamp
    if timestamp is None:
        timestamp = (corpus.ctgov_data_timestamp() if args.ctgov_classic_xml and not args.ctgov_json else None) \
            or DEFAULT_DATA_TIMESTAMP
    try:
        ctgov = CtgovEmulator(corpus, host=args.host, port=args.port + 1 if args.port else 0,
                              data_timestamp=timestamp)
    except ValueError as exc:
        print(f"error: --data-timestamp: {exc}", file=sys.stderr)
        return 2
    eutils = EutilsEmulator(corpus, host=args.host, port=args.port, rate_limit=not args.no_rate_limit,
                            unknown_language_matches=args.unknown_language_matches)
    stop = threading.Event()
    # Ctrl-C and SIGTERM only set the event: the main thread polls it, so a stop never depends on
    # a KeyboardInterrupt reaching a blocked wait (it could arrive before the wait, under load)
    def on_signal(*_):
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C interrupts a slow stop

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    with eutils, ctgov:
        print(f"E-utilities emulator: {eutils.base_url}  ({len(corpus.pubmed)} PubMed records)", flush=True)
        print(f"ClinicalTrials.gov emulator: {ctgov.base_url}  ({len(corpus.ctgov)} studies)", flush=True)
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
