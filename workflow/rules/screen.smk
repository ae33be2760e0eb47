rule eligibility:
    input:
        records=f"{RESULTS}/records.jsonl",
        clusters=f"{RESULTS}/clusters.tsv",
    output:
        f"{RESULTS}/eligibility.tsv",
    params:
        cmd=stage("eligibility"),
    shell:
        "{params.cmd} --records {input.records} --clusters {input.clusters} --out {output}"
