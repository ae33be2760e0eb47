"""Step 4: union-find clusters with cannot-links.

Unions are applied in a fixed order — forced merges (overrides), then matches by rule strength
(:data:`reprisma.dedup.rules.RULE_ORDER`: identifiers, then the fuzzy rules in table order), higher
score first, then by record ids — so the result does not depend on
input order. A union is refused when the two clusters hold a pair that must stay apart (a
``cannot`` pair from :func:`match`: different kind of item, contrast conflict, different DOI,
page, volume or year; or a forced split). Refused unions are reported as ``maybe`` pairs: a
false merge through a chain A~B~C is how transitive closure deletes studies.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .overrides import check_overrides
from .rules import RULE_ORDER



@dataclass
class ClusterResult:
    clusters: pd.DataFrame      # record_id, cluster_id, cluster_size
    applied: pd.DataFrame       # match rows (plus overrides) inside a final cluster
    refused: pd.DataFrame       # match rows whose union a cannot-link refused


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)
        self.members: dict[int, list[int]] = {}
        self.forbid: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return int(root)

    def forbid_pair(self, x: int, y: int) -> None:
        rx, ry = self.find(x), self.find(y)
        self.forbid.setdefault(rx, set()).add(y)
        self.forbid.setdefault(ry, set()).add(x)

    def can_union(self, rx: int, ry: int) -> bool:
        fx, fy = self.forbid.get(rx), self.forbid.get(ry)
        if not fx and not fy:
            return True
        mx, my = self.members.get(rx, [rx]), self.members.get(ry, [ry])
        if fx and any(m in fx for m in my):
            return False
        if fy and any(m in fy for m in mx):
            return False
        return True

    def union(self, rx: int, ry: int) -> None:
        mx, my = self.members.get(rx, [rx]), self.members.get(ry, [ry])
        if len(mx) < len(my):
            rx, ry, mx, my = ry, rx, my, mx
        self.parent[ry] = rx
        mx.extend(my)
        self.members[rx] = mx
        self.members.pop(ry, None)
        fy = self.forbid.pop(ry, None)
        if fy:
            self.forbid.setdefault(rx, set()).update(fy)


def cluster(records: pd.DataFrame, matches: pd.DataFrame, overrides: pd.DataFrame | None = None) -> ClusterResult:
    """Cluster a prepped frame given scored pairs (:func:`match`) and optional overrides."""
    n = len(records)
    ids = records["record_id"].to_numpy()
    pos = {rid: i for i, rid in enumerate(ids)}
    uf = _UnionFind(n)

    cannot = matches[matches["decision"] == "cannot"]
    for x, y in zip(cannot["a"].to_numpy(), cannot["b"].to_numpy()):
        uf.forbid_pair(int(x), int(y))

    forced = []
    if overrides is not None and len(overrides):
        ov = check_overrides(overrides, ids)
        for row in ov.sort_values(["action", "record_id_a", "record_id_b"]).itertuples(index=False):
            x, y = sorted((pos[row.record_id_a], pos[row.record_id_b]))
            if row.action == "split":
                uf.forbid_pair(x, y)
        for row in ov[ov["action"] == "merge"].sort_values(["record_id_a", "record_id_b"]).itertuples(index=False):
            x, y = sorted((pos[row.record_id_a], pos[row.record_id_b]))
            forced.append({"a": x, "b": y, "record_id_a": ids[x], "record_id_b": ids[y], "via": "override",
                           "decision": "match", "rule": "override", "veto": "",
                           "score": 100.0, "reason": f"{row.reason} ({row.reviewer}, {row.file}:{row.line})"})

    m = matches[matches["decision"] == "match"].copy()
    m["reason"] = ""
    if forced:
        m = pd.concat([pd.DataFrame(forced), m], ignore_index=True)
    m["_order"] = m["rule"].map({r: i for i, r in enumerate(RULE_ORDER)}).fillna(len(RULE_ORDER))
    m = m.sort_values(["_order", "score", "record_id_a", "record_id_b"], ascending=[True, False, True, True],
                      kind="stable")
    applied_flags = np.zeros(len(m), dtype=bool)
    refused_flags = np.zeros(len(m), dtype=bool)
    for k, (x, y, rule) in enumerate(zip(m["a"].to_numpy(), m["b"].to_numpy(), m["rule"].to_numpy())):
        rx, ry = uf.find(int(x)), uf.find(int(y))
        if rx == ry:
            applied_flags[k] = True
            continue
        if rule == "override" or uf.can_union(rx, ry):
            uf.union(rx, ry)
            applied_flags[k] = True
        else:
            refused_flags[k] = True

    roots = np.array([uf.find(i) for i in range(n)], dtype=np.int64)
    # cluster_id = smallest record id of the cluster (records are sorted by id, so the first position).
    first_pos = pd.Series(np.arange(n)).groupby(roots).transform("min").to_numpy()
    cluster_ids = ids[first_pos]
    sizes = pd.Series(roots).map(pd.Series(roots).value_counts()).to_numpy()
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": cluster_ids, "cluster_size": sizes})
    m = m.drop(columns="_order")
    applied = m[applied_flags].reset_index(drop=True)
    refused = m[refused_flags].reset_index(drop=True)
    refused["decision"] = "maybe"
    refused["veto"] = "union refused: would join records that must stay apart"
    return ClusterResult(clusters=clusters, applied=applied, refused=refused)
