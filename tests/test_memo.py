"""A batch's cache (brandstats.memo): kept by what it depends on, computed once even when
several kernels ask at the same moment."""

from __future__ import annotations

import threading
import time

from brandstats import memo


def test_without_a_batch_nothing_is_kept(monkeypatch):
    monkeypatch.delenv(memo.ENV, raising=False)
    calls = []
    assert memo.cached("x", lambda: calls.append(1) or 42) == 42
    assert memo.cached("x", lambda: calls.append(1) or 42) == 42
    assert calls == [1, 1]


def test_an_entry_asked_at_the_same_moment_is_computed_once(tmp_path, monkeypatch):
    """The second asker waits for the first (the entry's lock) and reads its result."""
    monkeypatch.setenv(memo.ENV, str(tmp_path))
    started, release, calls, answers = threading.Event(), threading.Event(), [], []

    def slow() -> dict:
        calls.append("slow")
        started.set()
        release.wait(10)
        return {"p": 0.25}

    first = threading.Thread(target=lambda: answers.append(memo.cached("group-a", slow)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(
        target=lambda: answers.append(memo.cached("group-a", lambda: calls.append("again")))
    )
    second.start()
    time.sleep(0.2)
    assert answers == []  # the second waits while the first computes
    release.set()
    first.join(10)
    second.join(10)
    assert calls == ["slow"] and answers == [{"p": 0.25}, {"p": 0.25}]
    assert memo.cached("group-b", lambda: 7, folder=tmp_path / "nowhere") == 7  # no folder
