"""Event recording against the real test server (core/v1 and events.k8s.io/v1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyclientgo.api.core.v1 import ConfigMap
from pyclientgo.config import load_config
from pyclientgo.kubernetes import AsyncClientset
from pyclientgo.tools.record import ClientsetEventSink, EventBroadcaster, EventsV1Recorder


async def test_core_v1_events_created_then_patched(kubeconfig: Path, kubectl: Any) -> None:
    config = load_config(kubeconfig=str(kubeconfig))
    config.qps = -1
    async with AsyncClientset(config) as cs:
        cm = await cs.core_v1.configmaps("default").create(
            ConfigMap(metadata={"name": "evented"}, data={"a": "b"})
        )
        broadcaster = EventBroadcaster(ClientsetEventSink(cs))
        broadcaster.start()
        recorder = broadcaster.new_recorder(component="test-controller", host="node-1")
        recorder.event(cm, "Normal", "Synced", "configmap synced")
        recorder.event(cm, "Normal", "Synced", "configmap synced")
        recorder.eventf(cm, "Warning", "Broken", "value %s is bad", "x")
        await broadcaster.flush()
        await broadcaster.shutdown()
        listed = await cs.core_v1.events("default").list(field_selector="involvedObject.name=evented")
        by_reason = {e.reason: e for e in listed.items or []}
        assert set(by_reason) == {"Synced", "Broken"}
        synced = by_reason["Synced"]
        assert synced.count == 2, "the repeat was patched onto the first event"
        assert synced.source is not None and synced.source.component == "test-controller"
        assert synced.involved_object is not None and synced.involved_object.uid == cm.metadata.uid
        assert by_reason["Broken"].message == "value x is bad" and by_reason["Broken"].type == "Warning"
    out = kubectl("describe", "configmap", "evented", "-n", "default")
    assert "Synced" in out and "configmap synced" in out


async def test_events_v1_series(kubeconfig: Path) -> None:
    config = load_config(kubeconfig=str(kubeconfig))
    config.qps = -1
    async with AsyncClientset(config) as cs:
        cm = await cs.core_v1.configmaps("default").create(ConfigMap(metadata={"name": "evented-v1"}))
        recorder = EventsV1Recorder(cs, reporting_controller="example.com/ctl", reporting_instance="ctl-0")
        recorder.start()
        for _ in range(3):
            recorder.eventf(cm, None, "Normal", "Scaled", "Scale", "scaled to %d", 3)
        await recorder.flush()
        await recorder.shutdown()
        events = await cs.events_v1.events("default").list()
        mine = [e for e in events.items or [] if e.regarding and e.regarding.name == "evented-v1"]
        assert len(mine) == 1
        event = json.loads(mine[0].to_json())
        assert event["note"] == "scaled to 3" and event["action"] == "Scale"
        assert event["reportingController"] == "example.com/ctl"
        assert event["series"]["count"] == 3
