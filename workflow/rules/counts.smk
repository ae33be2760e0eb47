rule counts:
    input:
        snapshot_inputs,
        records=f"{RESULTS}/records.jsonl",
        clusters=f"{RESULTS}/clusters.tsv",
        eligibility=f"{RESULTS}/eligibility.tsv",
        screening=f"{RESULTS}/screening.json",
        refresh=f"{RESULTS}/refresh.json",
    output:
        f"{RESULTS}/counts.json",
    log:
        log_file("counts"),
    conda:
        "../envs/reprisma.yaml"
    params:
        cmd=stage("counts"),
        code=CODE,
    shell:
        "{params.cmd} --records {input.records} --clusters {input.clusters} "
        "--eligibility {input.eligibility} --screening {input.screening} --refresh {input.refresh} --out {output} "
        "2>&1 | tee {log} >&2"
