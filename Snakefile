# reprisma: a systematic review's searches, replayed from a hash-locked snapshot.
# Table of contents only: the protocol, its validation, one include per stage.

configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/records.smk"
include: "workflow/rules/dedup.smk"
include: "workflow/rules/screen.smk"
include: "workflow/rules/counts.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/verify.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
