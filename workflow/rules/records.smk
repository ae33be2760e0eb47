rule records:
    input:
        snapshot_inputs,
    output:
        f"{RESULTS}/records.jsonl",
    params:
        cmd=stage("records"),
        code=CODE,
    shell:
        "{params.cmd} --out {output}"


# refresh: this capture against the previous one of the protocol's history (records added, no
# longer returned, changed) and what the previous round hands on (decisions, included studies)
rule refresh:
    input:
        snapshot_inputs,
        records=f"{RESULTS}/records.jsonl",
        ledgers=previous_ledgers,
    output:
        summary=f"{RESULTS}/refresh.json",
        diff=f"{STAGED}/refresh_diff.tsv",
    params:
        cmd=stage("refresh"),
        code=CODE,
    shell:
        "{params.cmd} --records {input.records} --out {output.summary} --diff {output.diff}"
