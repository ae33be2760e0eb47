rule report:
    input:
        snapshot_inputs,
        counts=f"{RESULTS}/counts.json",
        records=f"{RESULTS}/records.jsonl",
        dedup=f"{RESULTS}/dedup_summary.json",
        screening=f"{RESULTS}/screening.json",
        clusters=f"{RESULTS}/clusters.tsv",
        eligibility=f"{RESULTS}/eligibility.tsv",
        # hashed in the report's provenance, so an edit (even of a comment) re-renders it
        human=[PROTOCOL.source_path] + DECISION_FILES + OVERRIDES + REMOVED_BEFORE_SCREENING,
    output:
        [f"{STAGED}/{name}" for name in REPORT_FILES],
    log:
        log_file("report"),
    conda:
        "../envs/reprisma.yaml"
    params:
        cmd=stage("report"),
        code=CODE,
        # the staging folder (output[0] is its report.html)
        outdir=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "{params.cmd} --counts {input.counts} --records {input.records} --dedup {input.dedup} "
        "--screening {input.screening} --clusters {input.clusters} --eligibility {input.eligibility} "
        "--outdir {params.outdir} 2>&1 | tee {log} >&2"


# under a cluster executor, publish runs on the submit host, not as a job of its own
localrules:
    publish,


# reports/ changes only here: once every stage has succeeded, the staged files are copied over,
# each atomically. Snakemake removes a failed job's outputs, so no stage writes to reports/
# itself; update() keeps (and on a failed copy restores) the published files.
rule publish:
    input:
        [f"{STAGED}/{name}" for name in REPORT_FILES + SCREENING_FILES],
    output:
        [update(published(name)) for name in REPORT_FILES + SCREENING_FILES],
    log:
        log_file("publish"),
    run:
        publish_reports(input, output, log[0])
