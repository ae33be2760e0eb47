rule dedup:
    input:
        records=f"{RESULTS}/records.jsonl",
    output:
        f"{RESULTS}/clusters.tsv",
    params:
        cmd=stage("dedup"),
    shell:
        "{params.cmd} --records {input.records} --out {output}"
