"""Every published event version keeps its contract: the current model stays compatible with the snapshot of
its version, and stored events of every older version are upcast to the current one before anyone reads them."""
import json
import re
from datetime import date
from pathlib import Path
from typing import ClassVar
from uuid import UUID

import pytest
from pydantic import Field

from ttct.contracts import EVENTS, UPCASTERS, DomainEvent, Envelope, read_event
from ttct.contracts.types import ProgrammeType, VietnameseText
from ttct_dev.compat import breaking_changes, validate

pytestmark = pytest.mark.unit
SCHEMAS = Path(__file__).resolve().parents[2] / "docs/events/schemas"
SAMPLES = Path(__file__).parent / "samples"


def snapshots(name: str) -> dict[int, dict]:
    """The published schemas of `name`, by version."""
    found = {}
    for path in SCHEMAS.glob(f"{name}.v*.json"):
        match = re.fullmatch(rf"{name}\.v(\d+)\.json", path.name)
        if match:
            found[int(match[1])] = json.loads(path.read_text(encoding="utf-8"))
    return dict(sorted(found.items()))


def stored_event(name: str, version: int) -> dict:
    """A hand-made event of that version, as the event store keeps it (`events.envelope`)."""
    path = SAMPLES / f"{name}.v{version}.json"
    assert path.exists(), f"add {path.relative_to(SAMPLES.parent)}: a stored {name} v{version} event"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_version_up_to_the_current_one_is_published(name):
    assert list(snapshots(name)) == list(range(1, EVENTS[name].schema_version + 1))


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_the_current_model_does_not_break_the_published_schema_of_its_version(name):
    contract = EVENTS[name]
    changes = breaking_changes(snapshots(name)[contract.schema_version], contract.model_json_schema())
    assert changes == [], f"raise {name}.schema_version and add an upcaster: {changes}"


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_published_version_has_a_stored_event_valid_under_its_snapshot(name):
    for version, schema in snapshots(name).items():
        event = stored_event(name, version)
        assert (event["event_type"], event["schema_version"]) == (name, version)
        assert validate(event["payload"], schema) == []
        Envelope.model_validate(event)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_older_version_has_an_upcaster_chain_to_the_current_one(name):
    current = EVENTS[name].schema_version
    missing = [(name, v) for old in snapshots(name) for v in range(old, current) if (name, v) not in UPCASTERS]
    assert not missing, f"UPCASTERS lacks {sorted(set(missing))}"


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_stored_events_of_every_version_are_read_as_the_current_version(name):
    contract = EVENTS[name]
    for version in snapshots(name):
        event = read_event(Envelope.model_validate(stored_event(name, version)))
        assert type(event) is contract
        assert validate(event.model_dump(mode="json"), contract.model_json_schema()) == []


class ClassOpenedV2(DomainEvent):
    """What a v2 of ClassOpened could be: `venue` renamed `location`, and a new required `online`."""

    event_type: ClassVar[str] = "ClassOpened"
    schema_version: ClassVar[int] = 2
    context: ClassVar[str] = "scheduling"

    class_id: UUID
    programme_type: ProgrammeType
    title: VietnameseText
    capacity: int = Field(ge=1, le=5000)
    starts_on: date
    ends_on: date
    location: VietnameseText
    online: bool


def _v1_to_v2(payload: dict) -> dict:
    rest = {k: v for k, v in payload.items() if k != "venue"}
    return {**rest, "location": payload["venue"], "online": False}


def test_a_breaking_change_needs_a_new_version_whose_upcaster_turns_stored_events_into_it(monkeypatch):
    v1 = snapshots("ClassOpened")[1]
    assert breaking_changes(v1, ClassOpenedV2.model_json_schema()) != []

    monkeypatch.setitem(EVENTS, "ClassOpened", ClassOpenedV2)
    monkeypatch.setitem(UPCASTERS, ("ClassOpened", 1), _v1_to_v2)
    event = read_event(Envelope.model_validate(stored_event("ClassOpened", 1)))

    assert isinstance(event, ClassOpenedV2)
    assert event.location == "Hội trường Trung tâm Chính trị huyện Hậu Lộc" and event.online is False
