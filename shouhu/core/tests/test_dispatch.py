"""The cross-app dispatcher (DESIGN layers; issue 11): topics are declared, care reacts to the registry."""

from __future__ import annotations

import pytest

from shouhu.care import hooks
from shouhu.core import dispatch


def test_unknown_topic_is_refused_on_both_sides() -> None:
    with pytest.raises(ValueError, match="unknown topic"):
        dispatch.subscribe("registry.chld_saved", lambda **kw: None)
    with pytest.raises(ValueError, match="unknown topic"):
        dispatch.publish("registry.chld_saved")


def test_care_subscribes_to_the_registry_once() -> None:
    # AppConfig.ready has run; a second subscription of the same function is ignored.
    assert dispatch.subscribers(dispatch.CHILD_SAVED).count(hooks.child_saved) == 1
    dispatch.subscribe(dispatch.CHILD_SAVED, hooks.child_saved)
    assert dispatch.subscribers(dispatch.CHILD_SAVED).count(hooks.child_saved) == 1
    assert hooks.children_saved in dispatch.subscribers(dispatch.CHILDREN_SAVED)


def test_publish_returns_each_result_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(dispatch._subscribers, dispatch.CHILD_SAVED, [])
    dispatch.subscribe(dispatch.CHILD_SAVED, lambda **kw: ("a", kw["child"]))
    dispatch.subscribe(dispatch.CHILD_SAVED, lambda **kw: ("b", kw["child"]))
    assert dispatch.publish(dispatch.CHILD_SAVED, child=1, actor=None) == [("a", 1), ("b", 1)]
