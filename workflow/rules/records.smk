rule records:
    input:
        snapshot_inputs,
    output:
        f"{RESULTS}/records.jsonl",
    log:
        log_file("records"),
    conda:
        "../envs/reprisma.yaml"
    params:
        cmd=stage("records"),
        code=CODE,
    shell:
        "{params.cmd} --out {output} 2>&1 | tee {log} >&2"


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
    log:
        log_file("refresh"),
    conda:
        "../envs/reprisma.yaml"
    params:
        cmd=stage("refresh"),
        code=CODE,
    shell:
        "{params.cmd} --records {input.records} --out {output.summary} --diff {output.diff} "
        "2>&1 | tee {log} >&2"
