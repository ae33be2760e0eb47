# Live capture (mode: live): every search of the protocol into a new, verified, locked snapshot.
# Replay mode never runs this rule and never opens a socket.

if LIVE:

    rule capture:
        output:
            f"{RESULTS}/captures/{CAPTURE_ID}.json",
        params:
            cmd=stage("capture"),
            kind=CONFIG["capture_kind"],
        shell:
            "{params.cmd} --capture-id {CAPTURE_ID} --kind {params.kind} --out {output}"
