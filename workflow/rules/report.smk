rule report:
    input:
        snapshot_inputs,
        counts=f"{RESULTS}/counts.json",
        records=f"{RESULTS}/records.jsonl",
        dedup=f"{RESULTS}/dedup_summary.json",
        screening=f"{RESULTS}/screening.json",
    output:
        [report(f"{REPORTS}/report.html", category="Report")]
        + [f"{REPORTS}/{name}" for name in REPORT_FILES if name != "report.html"],
    params:
        cmd=stage("report"),
        code=CODE,
    shell:
        "{params.cmd} --counts {input.counts} --records {input.records} --dedup {input.dedup} "
        "--screening {input.screening} --outdir {REPORTS}"
