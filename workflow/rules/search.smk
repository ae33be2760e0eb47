# Live capture (mode: live): every search of the protocol into a new, verified, locked snapshot.
# Replay mode never runs this rule and never opens a socket.


if LIVE:

    rule capture:
        output:
            f"{RESULTS}/captures/{CAPTURE_ID}.json",
        log:
            log_file("capture"),
        conda:
            "../envs/reprisma.yaml"
        params:
            cmd=stage("capture"),
            kind=CONFIG["capture_kind"],
            capture_id=CAPTURE_ID,
        shell:
            "{params.cmd} --capture-id {params.capture_id} --kind {params.kind} --out {output} "
            "2>&1 | tee {log} >&2"
