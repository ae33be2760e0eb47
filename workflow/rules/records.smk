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
