"""Make ``rayyan_export.csv``: a Rayyan CSV export of five real records, as Rayyan lays it out.

Rayyan is a web service this workplace cannot reach, so the file is not a download. It is built
from two public descriptions of the format (read, not copied):

* the column order and quoting of Rayyan's own CSV exporter, ``do_export``/``emit_header`` in
  ``lib/rayyan-formats-core/plugins/csv.rb`` of github.com/rayyanqcri/rayyan-formats-core
  (commit 0101d87b845df2031a2ce5886118a4578e52bae1): ``key, title, authors (joined by " and "),
  journal, issn, volume, issue, pages, year, publisher, location, url, language, abstract,
  notes``, written by Ruby's ``Array#to_csv`` (quotes only where needed, ``\\n`` line ends); the
  ``key`` is the ``key`` of the imported file, kept by Rayyan's CSV importer (``target.sid``);
  ``location`` and ``language`` stay empty because reprisma's export has no such columns;
* the decisions that Rayyan's web app puts in ``notes``: `` RAYYAN-INCLUSION: {"Name"=>"Included",
  ...} | RAYYAN-EXCLUSION-REASONS: reason,reason`` (leading space as in real exports).

The records are rows 1-5 of ``reprisma_export.csv`` (reprisma's own export of real PubMed
records, which a reviewer would upload to Rayyan); the last one's ``key`` is a Rayyan number, as
for a record that reached Rayyan from another file, so it must be matched by its PubMed URL. The
decisions (two reviewers, one conflict, one record left undecided) are test input, not data.

Run from the repository root: ``.venv/bin/python tests/data/screening/make_rayyan_export.py``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ["key", "title", "authors", "journal", "issn", "volume", "issue", "pages", "year", "publisher",
          "location", "url", "language", "abstract", "notes"]
NOTES = [
    ' RAYYAN-INCLUSION: {"Alice Smith"=>"Included", "Bob"=>"Included"}',
    ' RAYYAN-INCLUSION: {"Alice Smith"=>"Excluded", "Bob"=>"Included"} | RAYYAN-EXCLUSION-REASONS: wrong population',
    ' RAYYAN-INCLUSION: {"Alice Smith"=>"Excluded", "Bob"=>"Excluded"} | RAYYAN-LABELS: drug | '
    'RAYYAN-EXCLUSION-REASONS: wrong study design,wrong population',
    ' RAYYAN-INCLUSION: {"Alice Smith"=>"Maybe"}',
    ' RAYYAN-INCLUSION: {"Bob"=>"Excluded"} | RAYYAN-EXCLUSION-REASONS: wrong population',
]


def main() -> None:
    with open(HERE / "reprisma_export.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:5]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for n, (r, notes) in enumerate(zip(rows, NOTES)):
        key = r["key"] if n < 4 else "417"
        w.writerow([key, r["title"], r["authors"], r["journal"], r["issn"], r["volume"], r["issue"], r["pages"],
                    r["year"], r["publisher"], "", r["url"], "", r["abstract"], notes])
    (HERE / "rayyan_export.csv").write_text(buf.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    main()
