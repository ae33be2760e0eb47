"""Human screening decisions: load and validate the TSV files, find conflicts, compute Cohen's
kappa, resolve decisions.

Files (``config/screening/*.tsv``), tab-separated, header first, ``#`` lines are comments::

    record_id  stage  reviewer  decision  reason  date  [note]

* ``stage``: ``title_abstract`` or ``full_text``; ``decision``: ``include``, ``exclude``, ``maybe``,
  or, at full text only, ``not_retrieved`` (the report could not be obtained: PRISMA 2020's
  "reports not retrieved"; a ``title_abstract`` row with it is an error);
* ``reason``: from the protocol's controlled list, required for full-text exclusions, optional
  otherwise;
* ``date``: ISO ``YYYY-MM-DD``.

Row schema: ``workflow/schemas/decisions.schema.json``. Files are read as UTF-8 (a byte order
mark, as Excel writes, is allowed). Lines end with LF or CRLF only (a line separator U+2028,
U+0085 or a form feed inside a note is text); a carriage return inside a line is an error. Every
problem is reported as ``FILE:LINE: message`` (line numbers count the LF-terminated lines, header
= line 1), all problems of all files at once, in a :class:`DecisionFileError`.

Ids: a row names a record or a dedup cluster. With the workflow's id map (:func:`screening_ids`)
the cluster id or the id of any record of a cluster is accepted and the row is attributed to the
cluster's representative, the record that is screened (``load_decisions`` returns that id in
``record_id`` and the id as written in ``given_id``). Two rows by one reviewer at one stage that
land on one cluster are duplicates. An id whose cluster was excluded by automation (or removed
before screening) is an error saying so; any other id is an unknown record id.

Full text after title/abstract (on the resolved title/abstract decisions): a full-text row for
a record with no title/abstract row, or one excluded at title/abstract, is an error. A full-text
row for a record whose title/abstract decision is still pending (awaiting the second reviewer, or
an unresolved conflict) is kept and *held*: the record counts as pending at title/abstract, its
full-text decisions count once title/abstract resolves to include or maybe (and are an error if
it resolves to exclude). So the full-text counts only ever cover records that passed
title/abstract.

Resolution (per record and stage): a row by reviewer ``consensus`` or by the protocol's third
reviewer (``ScreeningSettings.resolver``) decides. Otherwise, with ``mode="single"`` one reviewer's
decision is final; with ``mode="dual"`` two different reviewers must have decided. When the
reviewers disagree the record is a *conflict* and stays *pending* until resolved; at full text,
reviewers who all exclude but give different reasons are a conflict too (as in Covidence: the
PRISMA diagram counts each excluded report under one reason of the protocol's list, which a
resolution row names). A final
``maybe`` at title/abstract sends the record on to full text (it is not excluded); a final
``maybe`` at full text is pending. ``not_retrieved`` resolves like the other decisions (a reviewer
saying ``not_retrieved`` and another ``include`` or ``exclude`` is a conflict); a final
``not_retrieved`` counts as a report not retrieved, neither assessed nor excluded.
"""

from __future__ import annotations

import csv
import itertools
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pandas as pd

from reprisma.errors import ReprismaError
from reprisma.screen.eligibility import is_iso_day

__all__ = [
    "COLUMNS",
    "STAGES",
    "DECISIONS",
    "CONSENSUS",
    "ScreeningSettings",
    "Problem",
    "DecisionFileError",
    "read_decision_files",
    "validate_decisions",
    "load_decisions",
    "resolve_decisions",
    "conflicts",
    "kappa_table",
    "screening_summary",
    "screening_ids",
    "row_problems",
    "passed_title_abstract",
    "write_decisions_tsv",
]

COLUMNS = ["record_id", "stage", "reviewer", "decision", "reason", "date", "note"]
REQUIRED_COLUMNS = ["record_id", "stage", "reviewer", "decision", "reason", "date"]
STAGES = ("title_abstract", "full_text")
DECISIONS = ("include", "exclude", "maybe", "not_retrieved")
CONSENSUS = "consensus"


@dataclass(frozen=True)
class ScreeningSettings:
    """The protocol's screening settings.

    ``mode``: ``single`` or ``dual`` screening; ``reasons``: the controlled list of exclusion
    reasons; ``resolver``: name of the third reviewer whose rows resolve conflicts (rows by
    ``consensus`` always do).
    """

    mode: str = "dual"  # the protocol schema's default (workflow/schemas/config.schema.yaml)
    reasons: tuple[str, ...] = ()
    resolver: str | None = None

    def __post_init__(self):
        if self.mode not in ("single", "dual"):
            raise ValueError(f"screening mode must be 'single' or 'dual', not {self.mode!r}")
        object.__setattr__(self, "reasons", tuple(self.reasons))

    @classmethod
    def from_protocol(cls, screening: dict | None) -> "ScreeningSettings":
        """From the protocol's ``screening`` mapping (keys ``mode``, ``exclusion_reasons``,
        ``resolver``); missing keys take the defaults."""
        s = screening or {}
        return cls(
            mode=s.get("mode", "dual"),
            reasons=tuple(s.get("exclusion_reasons", ()) or ()),
            resolver=s.get("resolver"),
        )

    def resolvers(self) -> set[str]:
        return {CONSENSUS} | ({self.resolver} if self.resolver else set())


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DecisionFileError(ReprismaError, ValueError):
    """One or more problems in decision files; ``problems`` lists them (file, line, message)."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = sorted(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in screening decision files:"
        super().__init__("\n".join([head] + [f"  {p}" for p in self.problems]))


@lru_cache(maxsize=1)
def _schema() -> dict:
    here = Path(__file__).resolve()
    for parent in here.parents:
        for cand in (
            parent / "workflow" / "schemas" / "decisions.schema.json",
            parent / "schemas" / "decisions.schema.json",
        ):
            if cand.is_file():
                return json.loads(cand.read_text(encoding="utf-8"))
    raise FileNotFoundError("decisions.schema.json not found next to the package")


def _validator():
    import jsonschema

    schema = _schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def read_decision_files(paths: Iterable[str | Path]) -> tuple[pd.DataFrame, list[Problem]]:
    """Read TSV files into one table (columns ``COLUMNS`` + ``file``, ``line``).

    Returns the rows and the per-row problems found by the JSON Schema (wrong columns, bad
    values, bad dates, missing full-text exclusion reason).
    """
    rows: list[dict] = []
    problems: list[Problem] = []
    validator = _validator()
    for path in paths:
        path = Path(path)
        name = str(path)
        lines, problem = _read_text_lines(path)
        if problem is not None:
            problems.append(problem)
            continue
        header = None
        content = False  # a line that is neither blank nor a comment
        for lineno, text in enumerate(lines, start=1):
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            content = True
            if "\r" in text:
                problems.append(Problem(name, lineno, "carriage return (CR) inside the line: lines must end with LF "
                                                      "or CRLF; save the file with Windows or Unix line endings"))
                continue
            cells = next(csv.reader([text], delimiter="\t", quoting=csv.QUOTE_NONE))
            if header is None:
                header = [c.strip() for c in cells]
                missing = [c for c in REQUIRED_COLUMNS if c not in header]
                unknown = [c for c in header if c not in COLUMNS]
                if missing or unknown:
                    msg = []
                    if missing:
                        msg.append(f"missing column(s) {', '.join(missing)}")
                    if unknown:
                        msg.append(f"unknown column(s) {', '.join(unknown)}")
                    problems.append(
                        Problem(name, lineno, "; ".join(msg) + f" (expected {', '.join(COLUMNS)})")
                    )
                    break
                continue
            if len(cells) != len(header):
                problems.append(
                    Problem(name, lineno, f"expected {len(header)} tab-separated fields, found {len(cells)}")
                )
                continue
            row = {k: (v.strip() if v.strip() != "" else None) for k, v in zip(header, cells)}
            problems.extend(Problem(name, lineno, m) for m in row_problems(row, validator))
            full = {c: row.get(c) for c in COLUMNS}
            full["file"] = name
            full["line"] = lineno
            rows.append(full)
        if not content:
            problems.append(Problem(name, 1, "empty decision file (no header row)"))
    df = _clean(pd.DataFrame(rows, columns=COLUMNS + ["file", "line"]))
    return df, problems


def _read_text_lines(path: Path) -> tuple[list[str], Problem | None]:
    """The file's lines (UTF-8, a BOM dropped, split at LF only: see :mod:`reprisma.textfile`),
    or a problem naming the line and byte where the text is not UTF-8."""
    from reprisma.textfile import TextFileError, read_text, split_lines

    try:
        return split_lines(read_text(path)), None
    except TextFileError as exc:
        return [], Problem(exc.path, exc.line or 1, exc.message)


def row_problems(row: Mapping[str, object], validator=None) -> list[str]:
    """The messages for one decision row (column -> value, None or "" when empty): the row schema
    and a date that is a real day. Used for decision files and for rows an import would write."""
    validator = validator or _validator()
    inst = {k: v for k, v in row.items() if k in COLUMNS and v not in (None, "")}
    out, bad_date = [], False
    for err in sorted(validator.iter_errors(inst), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in err.path)
        bad_date = bad_date or where == "date"
        out.append(_schema_message(err, where))
    if inst.get("date") and not bad_date and not is_iso_day(str(inst["date"])):  # form ok, but a real day?
        out.append(_bad_date(str(inst["date"])))
    return out


def _schema_message(err, where: str) -> str:
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        if missing == "reason":
            return "full-text exclusion without a reason (column 'reason' is required)"
        return f"missing value in column {missing!r}"
    if err.validator == "enum":
        return f"column {where!r}: {err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    if err.validator == "pattern" and where == "date":
        return _bad_date(err.instance)
    if err.validator == "pattern":
        return f"column {where!r}: {err.instance!r} has the wrong form (expected pattern {err.validator_value})"
    if where == "reason":
        return "full-text exclusion without a reason (column 'reason' is required)"
    if where == "decision" and err.validator == "not":
        return (f"decision {err.instance!r} is for stage full_text only, not title_abstract "
                "(a report is sought only for a record that passed title/abstract)")
    return f"column {where!r}: {err.message}"


def _bad_date(value: str) -> str:
    return f"date {value!r} is not a valid ISO date (YYYY-MM-DD)"


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns with None for missing values (pandas may hold NaN), file/line present."""
    df = df.copy()
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = None
    if "file" not in df.columns:
        df["file"] = "<table>"
    if "line" not in df.columns:
        df["line"] = range(2, len(df) + 2)
    df = df.astype(object)
    return df.where(df.notna(), None)


def screening_ids(clusters: Iterable[Mapping], eligibility: Iterable[Mapping]) -> dict:
    """The ids decision rows may name, from ``clusters.tsv`` and ``eligibility.tsv`` rows, as the
    keyword arguments of :func:`validate_decisions` / :func:`load_decisions`
    (``load_decisions(files, settings, **screening_ids(clusters, eligibility))``):

    * ``known_ids``: the screened records (eligible cluster representatives), sorted;
    * ``aliases``: every cluster id and record id of a screened cluster -> its representative;
    * ``not_screened``: every id of a cluster excluded by automation or removed before screening
      -> why (``excluded by automation: <rule>: <detail>``, ``removed before screening for other
      reasons: <reason>``);
    * ``carried``: the representative of every cluster a previous round of a living review
      finished -> why; its decisions are valid rows (``aliases`` maps its ids) that count in the
      round that made them, not in this one.
    """
    from reprisma.dedup import representative_of
    from reprisma.screen.eligibility import PREVIOUS, REMOVED

    elig = {e["record_id"]: e for e in eligibility}
    clusters = list(clusters)
    rep_of = representative_of(clusters)
    known: set[str] = set()
    aliases: dict[str, str] = {}
    not_screened: dict[str, str] = {}
    carried: dict[str, str] = {}
    for c in clusters:
        rep = rep_of.get(c["record_id"])
        e = elig.get(rep)
        if e is None:
            continue
        if e["eligible"] in (True, "true"):
            known.add(rep)
            aliases[c["record_id"]] = aliases[c["cluster_id"]] = rep
            continue
        if e.get("rule") == PREVIOUS:
            aliases[c["record_id"]] = aliases[c["cluster_id"]] = rep
            carried[rep] = e.get("detail") or PREVIOUS
            continue
        if e.get("rule") == REMOVED:
            why = "removed before screening for other reasons" + (f": {e['detail']}" if e.get("detail") else "")
        else:
            why = "excluded by automation: " + ": ".join(x for x in (e.get("rule"), e.get("detail")) if x)
        for rid in (c["record_id"], c["cluster_id"]):
            not_screened[rid] = why if rid == rep else f"in the cluster of {rep!r}, {why}"
    return {"known_ids": sorted(known), "aliases": aliases, "not_screened": not_screened, "carried": carried}


def _attribute(df: pd.DataFrame, aliases: Mapping[str, str] | None) -> pd.DataFrame:
    """``given_id``: the id as written; ``record_id``: the screened record it stands for."""
    df = df.copy()
    if "given_id" not in df.columns:
        df["given_id"] = df["record_id"]
    if aliases:  # an object Series: a list holding None would become a str column with NaN (pandas 3)
        df["record_id"] = pd.Series([aliases.get(g, g) if g is not None else None for g in df["given_id"]],
                                    index=df.index, dtype=object)
    return df


def _as(given, rid) -> str:
    return f" (written {given!r})" if given != rid else ""


def validate_decisions(
    df: pd.DataFrame,
    settings: ScreeningSettings,
    known_ids: Iterable[str] | None = None,
    *,
    aliases: Mapping[str, str] | None = None,
    not_screened: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Checks across rows: unknown ids, ids not screened (``not_screened``: id -> why), duplicate
    (record, stage, reviewer) rows, reasons not in the protocol's list, full-text decisions for
    records without a title/abstract decision or excluded at title/abstract.

    ``aliases`` (id -> screened record id, see :func:`screening_ids`): rows naming a cluster or
    any of its records are checked as rows on the cluster's representative."""
    df = _attribute(_clean(df), aliases)
    problems: list[Problem] = []
    known = set(known_ids) if known_ids is not None else None
    not_screened = not_screened or {}
    first: dict[tuple, tuple[str, int, str]] = {}
    allowed = set(settings.reasons)
    bad_ids: set[str] = set()
    for r in df.itertuples(index=False):
        if r.given_id in not_screened:
            problems.append(Problem(r.file, r.line, f"record id {r.given_id!r}: {not_screened[r.given_id]}; "
                                                    "it is not screened"))
            bad_ids.add(r.record_id)
        elif known is not None and r.record_id is not None and r.record_id not in known:
            problems.append(Problem(r.file, r.line, f"unknown record id {r.given_id!r}"))
            bad_ids.add(r.record_id)
        key = (r.record_id, r.stage, r.reviewer)
        if None not in key:
            if key in first:
                f0, l0, g0 = first[key]
                problems.append(
                    Problem(
                        r.file,
                        r.line,
                        f"duplicate decision for record {r.record_id!r}{_as(r.given_id, r.record_id)}, "
                        f"stage {r.stage}, reviewer {r.reviewer!r} (first at {f0}:{l0}{_as(g0, r.record_id)})",
                    )
                )
            else:
                first[key] = (r.file, r.line, r.given_id)
        if r.reason is not None and r.reason not in allowed:
            listed = ", ".join(settings.reasons) if settings.reasons else "(the protocol declares none)"
            problems.append(
                Problem(r.file, r.line, f"reason {r.reason!r} is not in the protocol's list: {listed}")
            )
    # full text needs a title/abstract decision that is not an exclusion (resolved decisions);
    # one still pending holds the full-text rows (see the module docstring)
    ta_rows = df[df["stage"] == "title_abstract"]
    ta = resolve_decisions(ta_rows, settings, _checked=True)
    excluded = set(ta.loc[ta["decision"] == "exclude", "record_id"])
    with_ta = set(ta_rows["record_id"])
    ft = df[(df["stage"] == "full_text") & df["record_id"].notna() & ~df["record_id"].isin(bad_ids)]
    for r in ft.itertuples(index=False):
        if r.record_id in excluded:
            why = "which was excluded at title/abstract"
        elif r.record_id not in with_ta:
            why = "which has no title/abstract decision (a record reaches full text through title/abstract)"
        else:
            continue
        problems.append(
            Problem(r.file, r.line, f"full-text decision for record {r.record_id!r}{_as(r.given_id, r.record_id)}, {why}")
        )
    return problems


def load_decisions(
    paths: Iterable[str | Path],
    settings: ScreeningSettings,
    known_ids: Iterable[str] | None = None,
    *,
    aliases: Mapping[str, str] | None = None,
    not_screened: Mapping[str, str] | None = None,
    carried: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read and validate decision files; raise :class:`DecisionFileError` listing every problem.

    Returns the rows with ``record_id`` attributed through ``aliases`` to the screened record and
    the id as written in ``given_id`` (equal without ``aliases``). Rows on ``carried`` records
    (clusters a previous round of a living review finished) are valid and returned too."""
    df, problems = read_decision_files(paths)
    if problems:
        raise DecisionFileError(problems)
    if carried and known_ids is not None:
        known_ids = set(known_ids) | set(carried)
    problems = validate_decisions(df, settings, known_ids, aliases=aliases, not_screened=not_screened)
    if problems:
        raise DecisionFileError(problems)
    return _attribute(_clean(df), aliases)


def _group_outcome(group: pd.DataFrame, stage: str, settings: ScreeningSettings) -> dict:
    resolvers = settings.resolvers()
    res = group[group["reviewer"].isin(resolvers)]
    revs = group[~group["reviewer"].isin(resolvers)]
    decisions = sorted(set(revs["decision"]))
    reviewers = sorted(set(revs["reviewer"]))
    reasons = sorted({x for x in revs["reason"] if isinstance(x, str) and x})
    # at full text an excluded report counts under one reason: different reasons are a conflict
    reasons_differ = stage == "full_text" and decisions == ["exclude"] and len(reasons) > 1
    out = {
        "reviewers": ";".join(reviewers),
        "reviewer_decisions": ";".join(
            f"{a}={_label(stage, b, c)}" for a, b, c in sorted(zip(revs["reviewer"], revs["decision"], revs["reason"]),
                                                              key=lambda t: t[:2])
        ),
        "conflict": len(decisions) > 1 or reasons_differ,
    }
    if len(res):
        # the latest resolution row (by date, then file order) decides
        last = res.sort_values(["date", "file", "line"], kind="stable").iloc[-1]
        decision, reason, basis = last["decision"], last["reason"], f"resolved:{last['reviewer']}"
    elif out["conflict"]:
        decision, reason, basis = "pending", None, "conflict"
    elif settings.mode == "dual" and len(reviewers) < 2:
        decision, reason, basis = "pending", None, "awaiting second reviewer"
    else:
        decision = decisions[0]
        # reviewers' reasons are kept only when they name one (never joined into a made-up reason);
        # at title/abstract they are optional and not counted
        reason = reasons[0] if len(reasons) == 1 else None
        basis = "single" if len(reviewers) == 1 else "agreement"
    if stage == "full_text" and decision == "maybe":
        basis, decision = "maybe at full text", "pending"
    out.update(decision=decision, reason=reason, basis=basis)
    return out


def _label(stage: str, decision, reason) -> str:
    """A decision as the conflicts table shows it: at full text an exclusion with its reason."""
    return f"{decision} ({reason})" if stage == "full_text" and decision == "exclude" and reason else decision


def resolve_decisions(
    df: pd.DataFrame, settings: ScreeningSettings, *, _checked: bool = False
) -> pd.DataFrame:
    """One row per (record_id, stage): ``decision`` (include, exclude, maybe, not_retrieved, pending),
    ``reason`` (None when there is none), ``basis`` (single, agreement, resolved:<who>, conflict,
    awaiting second reviewer, maybe at full text), ``conflict`` (the reviewers disagreed on the
    decision, or at full text excluded for different reasons; resolved or not), ``reviewers``,
    ``reviewer_decisions``. Sorted by stage, then record id."""
    cols = ["record_id", "stage", "decision", "reason", "basis", "conflict", "reviewers", "reviewer_decisions"]
    rows = []
    df = _clean(df)
    good = df.dropna(subset=["record_id", "stage", "reviewer", "decision"])
    for (rid, stage), g in good.groupby(["record_id", "stage"], sort=True):
        o = _group_outcome(g, stage, settings)
        o.update(record_id=rid, stage=stage)
        rows.append(o)
    out = pd.DataFrame(rows, columns=cols)
    out["reason"] = out["reason"].astype(object).where(out["reason"].notna(), None)  # pandas 3: None -> NaN
    out["_s"] = out["stage"].map({s: i for i, s in enumerate(STAGES)})
    return out.sort_values(["_s", "record_id"], kind="stable").drop(columns="_s").reset_index(drop=True)


def conflicts(df: pd.DataFrame, settings: ScreeningSettings) -> pd.DataFrame:
    """The conflicts table: every (record, stage) on which reviewers disagreed, with the
    decisions (``reviewer_decisions``: ``who=decision;...``, at full text an exclusion with its
    reason, ``ana=exclude (wrong population)``), whether it is resolved, and the resolution (in
    the same form; None while unresolved)."""
    res = resolve_decisions(df, settings)
    c = res[res["conflict"].astype(bool)].copy()  # astype: an empty object column would select columns
    c["resolved"] = c["basis"].str.startswith("resolved:")
    c = c.astype(object)
    # an object Series: a plain list with None would become a string column with NaN ("nan" in the TSV)
    c["resolution"] = pd.Series([_label(s, d, r) if ok else None
                                 for s, d, r, ok in zip(c["stage"], c["decision"], c["reason"], c["resolved"])],
                                index=c.index, dtype=object)
    return c[["record_id", "stage", "reviewer_decisions", "resolved", "resolution", "basis"]].reset_index(drop=True)


def kappa_table(df: pd.DataFrame, settings: ScreeningSettings) -> pd.DataFrame:
    """Cohen's kappa per stage and reviewer pair, over the records both reviewers decided
    (resolution rows left out; ``not_retrieved`` is a category of its own). Kappa measures
    agreement on the decision: two full-text exclusions for different reasons agree here (they
    are a conflict to resolve only because PRISMA counts one reason per report). Columns: stage,
    reviewer_a, reviewer_b, n, agreement, kappa (None when undefined, e.g. both reviewers gave one
    and the same decision throughout)."""
    from sklearn.metrics import cohen_kappa_score

    rows = []
    df = _clean(df)
    revs = df[~df["reviewer"].isin(settings.resolvers())].dropna(subset=["reviewer", "decision"])
    for stage in STAGES:
        s = revs[revs["stage"] == stage]
        wide = s.pivot_table(index="record_id", columns="reviewer", values="decision", aggfunc="first")
        for a, b in itertools.combinations(sorted(wide.columns), 2):
            both = wide[[a, b]].dropna()
            if both.empty:
                continue
            agree = float((both[a] == both[b]).mean())
            if both[a].nunique() == 1 and both[b].nunique() == 1 and (both[a] == both[b]).all():
                k = None
            else:
                k = float(cohen_kappa_score(both[a], both[b], labels=list(DECISIONS)))
            rows.append(dict(stage=stage, reviewer_a=a, reviewer_b=b, n=len(both), agreement=agree, kappa=k))
    return pd.DataFrame(rows, columns=["stage", "reviewer_a", "reviewer_b", "n", "agreement", "kappa"])


def passed_title_abstract(resolved: pd.DataFrame) -> set[str]:
    """The records whose resolved title/abstract decision is include or maybe: the only ones
    whose full-text decisions count (the others' full-text rows are held, see the module
    docstring)."""
    ta = resolved[resolved["stage"] == "title_abstract"]
    return set(ta.loc[ta["decision"].isin(["include", "maybe"]), "record_id"])


def screening_summary(resolved: pd.DataFrame, records_screened: Iterable[str] | None = None) -> dict:
    """Counts for the PRISMA ledger from resolved decisions.

    ``records_screened``: the ids that entered title/abstract screening (after dedup and
    automation); those without any title/abstract decision count as ``not_screened``.
    Returns ``{stage: {include, exclude, maybe, not_retrieved, pending, pending_by, not_screened?,
    reasons: {reason: n}}}``; ``pending_by`` splits ``pending`` into ``conflict`` (unresolved),
    ``awaiting_second_reviewer`` (dual mode) and, at full text, ``maybe_at_full_text``; exclusions are counted per reason (``not_retrieved`` records are not
    exclusions; at full text they are the reports not retrieved, so the records that passed
    title/abstract = not_retrieved + exclude + pending + not_screened + include). Only resolved
    decisions count; ``pending`` says how many still wait for a (second or resolving) reviewer. Full-text counts cover only
    the records that passed title/abstract (:func:`passed_title_abstract`); ``full_text.held``
    counts the records whose full-text decisions wait for their title/abstract decision.
    """
    out: dict = {}
    passed = passed_title_abstract(resolved)
    for stage in STAGES:
        s = resolved[resolved["stage"] == stage]
        if stage == "full_text":
            held = int((~s["record_id"].isin(passed)).sum())
            s = s[s["record_id"].isin(passed)]
        counts = {k: int((s["decision"] == k).sum()) for k in (*DECISIONS, "pending")}
        why = {"conflict": "conflict", "awaiting_second_reviewer": "awaiting second reviewer"}
        if stage == "full_text":
            why["maybe_at_full_text"] = "maybe at full text"
        pending = s.loc[s["decision"] == "pending", "basis"]
        counts["pending_by"] = {k: int((pending == b).sum()) for k, b in why.items()}
        reasons: dict[str, int] = {}
        for r in s.loc[s["decision"] == "exclude", "reason"]:
            key = r if r else "(no reason)"
            reasons[key] = reasons.get(key, 0) + 1
        counts["reasons"] = dict(sorted(reasons.items()))
        if stage == "full_text":
            counts["held"] = held
        out[stage] = counts
    if records_screened is not None:
        ids = set(records_screened)
        decided = set(resolved.loc[resolved["stage"] == "title_abstract", "record_id"])
        out["title_abstract"]["not_screened"] = len(ids - decided)
        ft_decided = set(resolved.loc[resolved["stage"] == "full_text", "record_id"])
        out["full_text"]["not_screened"] = len(passed - ft_decided)
    return out


def write_decisions_tsv(path: str | Path, rows: pd.DataFrame | Sequence[dict]) -> None:
    """Write decision rows as a decisions TSV (columns ``COLUMNS``), atomically, sorted by
    stage, record, reviewer so the bytes are deterministic."""
    import io

    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    df = df.reindex(columns=COLUMNS)
    df["_s"] = df["stage"].map({s: i for i, s in enumerate(STAGES)})
    df = df.sort_values(["_s", "record_id", "reviewer"], kind="stable").drop(columns="_s")
    buf = io.StringIO()
    buf.write("\t".join(COLUMNS) + "\n")
    for r in df.itertuples(index=False):
        cells = ["" if (v is None or (isinstance(v, float) and v != v)) else str(v) for v in r]
        for c in cells:
            if "\t" in c or "\n" in c or "\r" in c:
                raise ValueError(f"tab, newline or carriage return in a decision field: {c!r}")
        buf.write("\t".join(cells) + "\n")
    from reprisma.snapshot import atomic_write_text

    atomic_write_text(Path(path), buf.getvalue())
