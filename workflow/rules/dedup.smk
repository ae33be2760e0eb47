rule dedup:
    input:
        protocol=PROTOCOL_JSON,
        records=f"{RESULTS}/records.jsonl",
        overrides=OVERRIDES,
    output:
        clusters=f"{RESULTS}/clusters.tsv",
        summary=f"{RESULTS}/dedup_summary.json",
        explanations=f"{STAGED}/dedup_explanations.tsv",
        maybe=f"{STAGED}/dedup_maybe.tsv",
    log:
        log_file("dedup"),
    conda:
        "../envs/reprisma.yaml"
    params:
        cmd=stage("dedup"),
        code=CODE,
    shell:
        "{params.cmd} --records {input.records} --out {output.clusters} "
        "--explanations {output.explanations} --maybe {output.maybe} --summary {output.summary} "
        "2>&1 | tee {log} >&2"
