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
    params:
        cmd=stage("verify"),
    shell:
        "{params.cmd} --counts {REPORTS}/counts.json --out {output}"
