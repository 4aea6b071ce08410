"""Record and replay: capture what a Letta server did, replay it byte for byte, and know when it drifts.

    format      the fixture format: versioned JSON, streams as the chunks that arrived with their offsets
    matching    which recorded request a request is, and the first difference when none is (near miss)
    normalise   consistent placeholders for ids and dates (``--normalise``)
    redact      what a fixture keeps of headers and queries; the scan for credentials before a file is written
    har         HAR 1.2 files as fixtures
    library     ``--fixtures PATH``: directories, files, curated fixtures by name
    replay      the decisions of replay: sequences, sessions, the near-miss answer
    playback    writing a recorded answer back at its recorded pace
    turns       replayed sends kept in the store, so synthesized answers agree with them
    middleware  the replay layer of ``letta-mock serve --fixtures``
    proxy       ``letta-mock record``: the recording proxy and its record modes
    check       ``letta-mock fixtures check``: fixtures against our models and any OpenAPI document
    drift       ``fixtures check --live``: recorded requests sent again, answers compared by shape
    cassettes   the pytest plugin's per-test cassettes
    curate      the curated library in ``fixtures/``, recorded from the mock itself

Rule: what replays is what arrived; everything that changes a recording (redaction, normalisation) happens
before it is written, never at replay, except writing a client's own ids back over its placeholders.
"""
