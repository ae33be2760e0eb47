"""Every matching rule and veto, on real record pairs from the bib-dedupe benchmark (tests/data/dedup)."""
import itertools

import pytest

from dedup_data import DATASETS, read_truth


def cluster_of(result, rid):
    c = result.clusters.set_index("record_id")["cluster_id"]
    return c[rid]


def together(result, *ids):
    return len({cluster_of(result, i) for i in ids}) == 1


SAME = [
    ("haematology", ["id_0000006", "id_0000007"]),            # trailing period, '&' vs 'and'
    ("haematology", ["id_0000018", "id_0000019"]),            # '[Erratum appears in ...' note
    ("haematology", ["id_0000115", "id_0000116"]),            # typo, year one apart
    ("haematology", ["id_0000072", "id_0000073", "id_0000074", "id_0000075"]),  # 'MEDICAL PROGRESS' prefix
    ("haematology", ["id_0000163", "id_0000164"]),            # '.Conference:' suffix on one journal name
    ("haematology", ["id_0001010", "id_0001011"]),            # first-page typo, same last page
    ("haematology", ["id_0000196", "id_0000197"]),            # '2297-2108' vs '2097-2108'
    ("haematology", ["id_0000020", "id_0000021"]),            # one correction notice: 'Erratum:' vs '(vol 142, pg 310, 2003)'
    ("haematology", ["id_0000057", "id_0000058"]),            # one correction notice, Embase vs Web of Science citation style
    ("haematology", ["id_0000122", "id_0000123"]),            # meeting abstract, as indexed and as printed on one journal page
    ("haematology", ["id_0000111", "id_0000113"]),            # meeting abstract, as indexed and as printed in supplement 's2'
    ("haematology", ["id_0000105", "id_0000106"]),            # volume missing, issue and pages shifted one column
    ("haematology", ["id_0000008", "id_0000009"]),            # '(multiple letters) [1]' record of the letter, same first page
    ("haematology", ["id_0000039", "id_0000040"]),            # two records of one '- Reply'
    ("cytology_screening", ["id_0000008", "id_0000009"]),
    ("cytology_screening", ["id_0000069", "id_0000070"]),     # pages 'S417-S429' vs 'Suppl-29'
    ("cytology_screening", ["id_0000211", "id_0000212"]),     # '[Review] [70 refs]'
    ("cytology_screening", ["id_0000555", "id_0000556"]),
    ("cytology_screening", ["id_0000248", "id_0000912"]),     # garbled collective author
    ("cytology_screening", ["id_0001349", "id_0001350", "id_0001351", "id_0001352", "id_0001353"]),  # 1014 vs c1804
    ("respiratory", ["id_0000001", "id_0000002"]),            # JPEN spellings
    ("respiratory", ["id_0000003", "id_0000004"]),            # translated title in brackets
    ("respiratory", ["id_0000088", "id_0000089", "id_0000090"]),  # English vs original-language title
    ("respiratory", ["id_0000201", "id_0000202"]),            # original-language text appended
    ("respiratory", ["id_0000298", "id_0000299"]),            # 'Part I' in both
    ("respiratory", ["id_0000335", "id_0000336", "id_0000337"]),  # 'Jthoraccardiovascsurg'
    ("respiratory", ["id_0000785", "id_0000786"]),            # two-word title, same unparsed pages '01-Aug'
    ("special_cases", ["id_0000001", "id_0000002"]),          # conference papers without pages
    ("special_cases", ["id_0000005", "id_0000006"]),
    ("special_cases", ["id_0000007", "id_0000011"]),          # one DOI in the 'note' column
]

APART = [
    ("haematology", "id_0000001", "id_0000002", "empty title"),
    ("haematology", "id_0000190", "id_0001173", "article vs erratum notice"),
    ("haematology", "id_0000058", "id_0000063", "correction notice vs the article it corrects"),
    ("haematology", "id_0000009", "id_0000039", "letter vs '- Reply' (labelled one group)"),
    ("haematology", "id_0000008", "id_0000040", "letters record vs '- Reply' (labelled one group)"),
    ("haematology", "id_0000021", "id_0000018", "correction notice (vol 142, pg 310) vs the article"),
    ("haematology", "id_0001377", "id_0001378", "pediatric vs adult"),
    ("haematology", "id_0000176", "id_0000885", "C3 vs factor I"),
    ("cytology_screening", "id_0000430", "id_0001701", "CIN 3 vs CIN 2/3"),
    ("respiratory", "id_0001078", "id_0001079", "phase II vs phase I/II"),
    ("respiratory", "id_0001409", "id_0001697", "FOCUS 1 vs FOCUS 2"),
    ("respiratory", "id_0001355", "id_0001356", "Annals vs ACP Journal Club"),
    ("respiratory", "id_0001576", "id_0001577", "two abstracts, one supplement page"),
    ("special_cases", "id_0000003", "id_0000004", "different DOIs and years"),
    ("special_cases", "id_0000007", "id_0000012", "journal article vs conference paper"),
    ("special_cases", "id_0000009", "id_0000010", "conference vs journal version"),
]


@pytest.mark.parametrize("name,ids", SAME, ids=[f"{n}:{ids[0]}" for n, ids in SAME])
def test_duplicates_found(results, name, ids):
    assert together(results[name], *ids)


@pytest.mark.parametrize("name,a,b,why", APART, ids=[w for *_, w in APART])
def test_not_merged(results, name, a, b, why):
    assert not together(results[name], a, b), why


@pytest.mark.parametrize("name", DATASETS)
def test_every_merge_is_in_the_ground_truth_or_deliberately_absent(results, name):
    """Precision on the samples: every pair merged is a labelled pair."""
    truth = {p for g in read_truth(name) for p in itertools.combinations(sorted(g), 2)}
    for g in results[name].groups():
        for p in itertools.combinations(g, 2):
            assert p in truth, p


def test_labels_broader_than_the_rules_are_not_followed(results):
    """The labels group erratum notices with the article they correct; the issue forbids it."""
    truth = read_truth("haematology")
    assert ["id_0000175", "id_0000190", "id_0000191", "id_0001173"] in truth
    assert ["id_0000057", "id_0000058", "id_0000063", "id_0000064", "id_0000065"] in truth
    h = results["haematology"]
    assert not together(h, "id_0000190", "id_0001173")
    assert together(h, "id_0000063", "id_0000064", "id_0000065") and together(h, "id_0000057", "id_0000058")
    assert not together(h, "id_0000057", "id_0000063")


def test_meeting_abstract_vs_journal_record_needs_an_abstract_like_printing(samples, results):
    """A meeting abstract joins a journal record of the same title and authors only when the
    journal record could be that abstract in print: same journal, no other first page, and a
    supplement issue or a single page."""
    h = results["haematology"]
    assert not together(h, "id_0001188", "id_0001189")   # same journal, pages 22 vs 52
    assert not together(h, "id_0000792", "id_0000793")   # another journal, pages 15650-15658
    from reprisma.dedup import deduplicate

    pair = samples["haematology"].set_index("ID").loc[["id_0000122", "id_0000123"]].reset_index()
    assert deduplicate(pair).groups() == [["id_0000122", "id_0000123"]]
    # The same two records with the journal one given a full article's page range: kept apart.
    article = pair.copy()
    article.loc[article["ID"] == "id_0000122", "pages"] = "507-515"
    assert deduplicate(article).groups() == []
    # ... or no pages at all (it could be the full article ahead of print): kept apart too.
    article.loc[article["ID"] == "id_0000122", "pages"] = ""
    assert deduplicate(article).groups() == []


def test_every_merge_has_an_explanation(results):
    for name, res in results.items():
        ex = res.explanations
        assert set(ex.columns) >= {"record_id_a", "record_id_b", "rule", "fields_compared", "title_sim"}
        merged = {rid for g in res.groups() for rid in g}
        explained = set(ex["record_id_a"]) | set(ex["record_id_b"])
        assert merged == explained, name
        assert (ex["rule"] != "").all() and (ex["fields_compared"] != "").all()


def test_rule_names(results):
    ex = results["special_cases"].explanations.set_index(["record_id_a", "record_id_b"])
    # id_0000007 carries its DOI in the 'note' column, so the fuzzy rule decides, not the DOI rule.
    assert ex.loc[("id_0000007", "id_0000011"), "rule"] == "title+authors"
    ex = results["respiratory"].explanations
    rules = set(ex[ex["record_id_a"].isin(["id_0000088", "id_0000089"])]["rule"])
    assert "authors+journal+pages+volume" in rules


def test_maybe_list_holds_vetoed_near_identical_titles(results):
    maybe = results["respiratory"].maybe_pairs
    pairs = set(zip(maybe["record_id_a"], maybe["record_id_b"]))
    assert ("id_0001078", "id_0001079") in pairs
    row = maybe[(maybe["record_id_a"] == "id_0001078") & (maybe["record_id_b"] == "id_0001079")].iloc[0]
    assert row["why"].startswith("contrast numbers")


def test_representative_rule(results):
    reps = results["haematology"].representatives
    row = reps[reps["merged_ids"] == "id_0000006;id_0000007"].iloc[0]
    assert row["n_records"] == 2
    # Same completeness: the longer title (the one with a period) breaks the tie, then the smaller id.
    assert row["ID"] in ("id_0000006", "id_0000007")
    clusters = results["haematology"].clusters
    assert clusters["representative"].sum() == len(reps)


def test_tiny_inputs(samples):
    from reprisma.dedup import deduplicate

    df = samples["special_cases"]
    assert deduplicate(df.iloc[:0]).groups() == []
    one = deduplicate(df.iloc[:1])
    assert one.groups() == [] and len(one.representatives) == 1
    assert deduplicate(df.iloc[:2]).groups() == [["id_0000001", "id_0000002"]]


def test_summary(samples, results):
    from reprisma.dedup import summary

    s = summary(results["respiratory"], samples["respiratory"])
    assert s["records_in"] == len(samples["respiratory"])
    assert s["records_in"] - s["records_out"] == s["duplicates_removed"] == sum(s["removed_by_rule"].values())
    assert sum(s["removed_by_source_pair"].values()) == s["duplicates_removed"]
    assert s["maybe_pairs"] >= 1 and len(s["maybe_examples"]) <= 5
