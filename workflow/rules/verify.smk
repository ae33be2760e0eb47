# verify: re-hash the snapshot and re-derive every count from it, then compare with the manifest
# and with the committed reports/counts.json. Run it with `make verify` (it always runs).


# under a cluster executor, verify runs on the submit host
localrules:
    verify,


rule verify:
    input:
        snapshot_inputs,
    output:
        f"{RESULTS}/verify.txt",
    log:
        log_file("verify"),
    conda:
        "../envs/reprisma.yaml"
    params:
        cmd=stage("verify"),
        # the committed ledger: compared with, never rebuilt (an input would make verify run publish)
        committed=f"{REPORTS}/counts.json",
    shell:
        "{params.cmd} --counts {params.committed} --out {output} 2>&1 | tee {log} >&2"
