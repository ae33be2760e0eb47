"""Normalisers, on values taken from the benchmark records (tests/data/dedup)."""
import pandas as pd

from reprisma.dedup import prep
from reprisma.dedup.prep_author import parse_bibtex_authors, parse_record_authors
from reprisma.dedup.prep_doi import normalise_doi
from reprisma.dedup.prep_journal import journal_similarity, normalise_journal
from reprisma.dedup.prep_pages import normalise_pages
from reprisma.dedup.prep_title import contrast_conflict, contrast_tokens, normalise_title, title_kind
from reprisma.dedup.prep_year import normalise_year

from dedup_data import read_sample


def test_doi_forms():
    raw = "10.1080/1097198X.2004.10856384"  # special_cases id_0000007
    for form in (raw, f"https://doi.org/{raw}", f"http://dx.doi.org/{raw}", f"doi: {raw}", f"DOI:{raw}."):
        assert normalise_doi(form) == raw.lower()
    assert normalise_doi("not a doi") == ""


def test_pages_forms():
    assert normalise_pages("742-8; discussion 748-9") == ("742", "748")       # respiratory id_0000344
    assert normalise_pages("742-749") == ("742", "749")
    assert normalise_pages("1217-24; discussion 1224-5") == ("1217", "1224")
    assert normalise_pages("376 -- 383") == ("376", "383")
    assert normalise_pages("S417-S429") == ("417", "429")                      # cytology id_0000069
    assert normalise_pages("Suppl-29") == ("", "")                             # cytology id_0000070
    assert normalise_pages("c1804") == ("", "")                                # electronic locator
    assert normalise_pages("e12724") == ("", "")


def test_title_normalisation():
    df = read_sample("cytology_screening").set_index("ID")
    a, b = df.at["id_0000211", "title"], df.at["id_0000212", "title"]
    assert normalise_title(a) == normalise_title(b)                            # '[Review] [70 refs]'
    h = read_sample("haematology").set_index("ID")
    assert normalise_title(h.at["id_0000006", "title"]) == normalise_title(h.at["id_0000007", "title"])
    assert normalise_title("Effect of <i>in vivo</i> &amp; [Article in German]") == "effect of in vivo and"
    assert normalise_title("") == ""


def test_title_kind():
    h = read_sample("haematology").set_index("ID")
    assert title_kind(h.at["id_0001173", "title"]) == "erratum"
    assert title_kind(h.at["id_0000190", "title"]) == ""
    assert title_kind(h.at["id_0000019", "title"]) == ""   # '[Erratum appears in ...' is a note on the article
    # Correction notices titled with the corrected item's citation (Web of Science, Embase).
    for rid in ("id_0000021", "id_0000057", "id_0000058"):
        assert title_kind(h.at[rid, "title"]) == "erratum", rid
    assert normalise_title(h.at["id_0000057", "title"]) == normalise_title(h.at["id_0000058", "title"])
    assert normalise_title(h.at["id_0000058", "title"]) == "eculizumab for atypical hemolytic uremic syndrome"
    assert title_kind("Outcomes of 2009 (n = 30)") == ""
    assert title_kind(h.at["id_0000039", "title"]) == "reply"   # Web of Science's 'Title - Reply'
    assert title_kind(h.at["id_0000009", "title"]) == ""


def test_contrast():
    r = read_sample("respiratory").set_index("ID")
    a = contrast_tokens(normalise_title(r.at["id_0001409", "title"]))
    b = contrast_tokens(normalise_title(r.at["id_0001697", "title"]))
    assert contrast_conflict(a, b).startswith("numbers")
    h = read_sample("haematology").set_index("ID")
    a = contrast_tokens(normalise_title(h.at["id_0001377", "title"]))
    b = contrast_tokens(normalise_title(h.at["id_0001378", "title"]))
    assert contrast_conflict(a, b) == "children/adults"
    assert contrast_conflict(contrast_tokens("effect in vivo"), contrast_tokens("effect in vitro")) == "vivo/vitro"
    assert contrast_conflict(contrast_tokens("trial in men"), contrast_tokens("trial in women")) == "men/women"
    assert contrast_conflict(contrast_tokens("x part i"), contrast_tokens("x part ii")).startswith("numbers")


def test_authors():
    assert parse_bibtex_authors("Zheng, Qing-Feng and Wang, Jian-Jun") == [("zheng", "qf"), ("wang", "jj")]
    assert parse_bibtex_authors("Zheng, Q. F. and Wang, J. J.") == [("zheng", "qf"), ("wang", "jj")]
    assert parse_bibtex_authors("Terra, R. M. and Pêgo-Fernandes, P. M.")[1][0] == "pegofernandes"
    assert parse_record_authors(["Zheng QF", "Wang JJ"]) == [("zheng", "qf"), ("wang", "jj")]
    assert parse_record_authors(["North American Linomide Investigators"])[0][0].startswith("@")


def test_journals():
    assert journal_similarity(normalise_journal("J Am Soc Nephrol"),
                              normalise_journal("Journal of the American Society of Nephrology")) == 100
    assert journal_similarity(normalise_journal("Jthoraccardiovascsurg"),
                              normalise_journal("The Journal of thoracic and cardiovascular surgery")) == 100
    assert journal_similarity(normalise_journal("Breast-Cancer-Res-Treat"),
                              normalise_journal("Breast cancer research and treatment")) == 100
    assert journal_similarity(normalise_journal("ACP Journal Club"),
                              normalise_journal("Annals of Internal Medicine")) < 90


def test_year():
    assert normalise_year("2004") == 2004 and normalise_year("") == -1 and normalise_year(2010) == 2010


def test_prep_is_sorted_and_checks_ids():
    df = read_sample("special_cases")
    p = prep(df.iloc[::-1])
    assert list(p["record_id"]) == sorted(df["ID"])
    bad = pd.concat([df.iloc[:2], df.iloc[:1]])
    import pytest

    from reprisma.dedup import InputError
    with pytest.raises(InputError, match="duplicate ID"):
        prep(bad)
    with pytest.raises(InputError, match="neither"):
        prep(df.rename(columns={"ID": "key"}))
