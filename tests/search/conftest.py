import pytest


@pytest.fixture(autouse=True)
def no_real_backoff(monkeypatch):
    """No test sleeps in real backoff: retries wait 0 s (Retry-After is capped at 0 s too)."""
    monkeypatch.setenv("REPRISMA_HTTP_BACKOFF", "0")
    monkeypatch.setenv("REPRISMA_HTTP_RETRY_AFTER_CAP", "0")
