# records reviewers removed before screening for other reasons; a missing file means none
# (an input when it exists, so editing it reruns eligibility and everything after it)
REMOVED_BEFORE_SCREENING = (
    [CONFIG["removed_before_screening"]] if os.path.exists(CONFIG["removed_before_screening"]) else []
)

# reviewers' study links (config/study_links.tsv: link/unlink two records as reports of one
# study); a missing file means none, an existing one is an input of the screening rule
STUDY_LINKS = [CONFIG["dedup"]["study_links"]] if os.path.exists(CONFIG["dedup"]["study_links"]) else []


rule eligibility:
    input:
        protocol=PROTOCOL_JSON,
        records=f"{RESULTS}/records.jsonl",
        clusters=f"{RESULTS}/clusters.tsv",
        refresh=f"{RESULTS}/refresh.json",
        removed=REMOVED_BEFORE_SCREENING,
    output:
        f"{RESULTS}/eligibility.tsv",
    log:
        log_file("eligibility"),
    conda:
        "../envs/reprisma.yaml"
    params:
        cmd=stage("eligibility"),
        code=CODE,
    shell:
        "{params.cmd} --records {input.records} --clusters {input.clusters} --refresh {input.refresh} --out {output} "
        "2>&1 | tee {log} >&2"


rule screening:
    input:
        protocol=PROTOCOL_JSON,
        records=f"{RESULTS}/records.jsonl",
        clusters=f"{RESULTS}/clusters.tsv",
        eligibility=f"{RESULTS}/eligibility.tsv",
        refresh=f"{RESULTS}/refresh.json",
        decisions=DECISION_FILES,
        study_links=STUDY_LINKS,
    output:
        summary=f"{RESULTS}/screening.json",
        conflicts=f"{STAGED}/screening_conflicts.tsv",
        to_screen_csv=f"{STAGED}/to_screen.csv",
        to_screen_ris=f"{STAGED}/to_screen.ris",
    log:
        log_file("screening"),
    conda:
        "../envs/reprisma.yaml"
    params:
        cmd=stage("screening"),
        code=CODE,
    shell:
        "{params.cmd} --records {input.records} --clusters {input.clusters} --eligibility {input.eligibility} "
        "--refresh {input.refresh} --out {output.summary} --conflicts {output.conflicts} --to-screen-csv {output.to_screen_csv} "
        "--to-screen-ris {output.to_screen_ris} 2>&1 | tee {log} >&2"
