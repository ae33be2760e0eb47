rule records:
    input:
        snapshot_inputs,
    output:
        f"{RESULTS}/records.jsonl",
    params:
        cmd=stage("records"),
    shell:
        "{params.cmd} --out {output}"
