"""The rule table is the one source: match(), the explanations, clustering order and the README."""
import re
import subprocess
import sys
from pathlib import Path

from reprisma.dedup import FIELDS_COMPARED
from reprisma.dedup.features import FEATURES
from reprisma.dedup.rules import FUZZY_RULES, IDENTIFIER_RULES, RULE_ORDER, VETOES, rules_markdown


README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_rule_list_is_the_table():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- dedup-rules:[^\n]*-->\n(.*?)<!-- /dedup-rules -->", text, re.S)
    assert m, "README.md has no generated dedup rule list"
    assert m.group(1) == rules_markdown()


def test_cli_prints_the_table():
    r = subprocess.run([sys.executable, "-m", "reprisma.dedup", "--rules"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == rules_markdown()


def test_every_rule_named_once_and_ordered_for_clustering():
    names = [r.name for r in IDENTIFIER_RULES + FUZZY_RULES]
    assert len(names) == len(set(names))
    assert RULE_ORDER == ["override"] + names
    assert set(FIELDS_COMPARED) == set(RULE_ORDER)
    assert all(v.doc and r.doc for v in VETOES for r in IDENTIFIER_RULES + FUZZY_RULES)
    assert all(f.doc for f in FEATURES.values())


def test_explanations_name_rules_of_the_table(results):
    rules_seen = set()
    for name, result in results.items():
        ex = result.explanations
        assert set(ex["rule"]) <= set(RULE_ORDER), name
        assert (ex["fields_compared"] == ex["rule"].map(FIELDS_COMPARED)).all()
        rules_seen |= set(ex["rule"])
    # The real samples exercise most rules of the table (not just one).
    assert len(rules_seen) >= 6, rules_seen
