"""Logging, corrections and soft deletes: history is kept and the index follows SQL."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from memory import journal
from memory.errors import MemoloopError
from memory.models import Observation
from memory.recall import recall


def test_log_stores_the_users_date_and_indexes_it(mem, cats):
    obs = journal.log(mem, "Mochi drank a lot of water", subject="Mochi", at="2025-10-02T08:30:00+02:00",
                      kind="symptom")
    assert obs.happened_at == datetime(2025, 10, 2, 6, 30, tzinfo=timezone.utc)
    assert obs.logged_at > obs.happened_at
    assert obs.indexed and mem.pending() == 0
    assert mem.index.count() == len(cats) + 1


@pytest.mark.parametrize("text, message", [
    ("", "text is empty"),
    ("   \n ", "text is empty"),
    ("x" * (journal.MAX_TEXT_CHARS + 1), f"the limit is {journal.MAX_TEXT_CHARS}"),
])
def test_bad_text_is_refused_and_nothing_is_stored(mem, cats, text, message):
    with pytest.raises(MemoloopError, match=message):
        journal.log(mem, text, subject="Mochi")
    assert len(journal.timeline(mem)) == len(cats)


def test_future_dates_need_the_flag(mem):
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()
    with pytest.raises(MemoloopError, match="in the future.*--allow-future"):
        journal.log(mem, "vet appointment", at=tomorrow)
    assert journal.log(mem, "vet appointment", at=tomorrow, allow_future=True).id


def test_today_and_yesterday_are_dates():
    from memory.dates import local_tz, parse_when

    ref = datetime(2025, 10, 2, 9, 15, tzinfo=timezone.utc)
    assert parse_when("today", reference=ref) == ref
    yesterday = parse_when(" Yesterday ", reference=ref).astimezone(local_tz())
    assert (yesterday.date(), yesterday.hour) == (ref.astimezone(local_tz()).date() - timedelta(days=1), 12)


def test_unparseable_date_names_the_value(mem):
    with pytest.raises(MemoloopError, match="'last tuesdayish' is not a date"):
        journal.log(mem, "sneezed", at="last tuesdayish")


def test_unknown_subject_says_how_to_add_it(mem, cats):
    with pytest.raises(MemoloopError, match="'Nala' is not known.*memoloop subjects add 'Nala'"):
        journal.log(mem, "sneezed", subject="Nala")


def test_unknown_kind_lists_the_valid_ones(mem):
    with pytest.raises(MemoloopError, match="kind 'sneeze' is not known; use one of: note, symptom"):
        journal.log(mem, "sneezed", kind="sneeze", kinds=["note", "symptom"])


def test_subject_names_are_unique_regardless_of_case(mem, cats):
    with pytest.raises(MemoloopError, match="already exists"):
        journal.add_subject(mem, "mochi")


def test_correction_supersedes_and_can_be_undone(mem, cats):
    old_id = cats["Mochi weighs 4.2 kg"]
    new = journal.correct(mem, old_id, text="Mochi weighs 4.4 kg", kinds=None)
    assert new.supersedes_id == old_id
    assert journal.get(mem, old_id).superseded_by_id == new.id
    texts = [h.text for h in recall(mem, "How much does Mochi weigh?").relevant]
    assert "Mochi weighs 4.4 kg" in texts and "Mochi weighs 4.2 kg" not in texts

    restored = journal.undo_correction(mem, new.id)
    assert restored.id == old_id and restored.live
    texts = [h.text for h in recall(mem, "How much does Mochi weigh?").relevant]
    assert "Mochi weighs 4.2 kg" in texts and "Mochi weighs 4.4 kg" not in texts
    with mem.session() as s:  # both versions are still there as history
        assert len(s.exec(select(Observation).where(Observation.text.like("Mochi weighs%"))).all()) == 2


def test_soft_delete_hides_and_restore_brings_back(mem, cats):
    oid = cats["Luna peed outside the litter box on the bathmat"]
    journal.delete(mem, oid)
    assert oid not in [h.id for h in recall(mem, "Has Luna peed outside the box?").hits]
    assert oid not in [o.id for o in journal.timeline(mem)]
    assert oid in [o.id for o in journal.timeline(mem, include_deleted=True)]
    journal.restore(mem, oid)
    assert oid in [h.id for h in recall(mem, "Has Luna peed outside the box?").relevant]


def test_timeline_filters(mem, cats):
    luna = journal.timeline(mem, subject="Luna")
    assert [o.text for o in luna][0].startswith("Luna peed")  # newest first
    assert all(o.subject_id == luna[0].subject_id for o in luna)
    assert [o.kind for o in journal.timeline(mem, kind="weight")] == ["weight"]


def test_rename_keeps_the_notes(mem, cats):
    journal.update_subject(mem, "Luna", new_name="Lunita")
    assert len(journal.timeline(mem, subject="Lunita")) == 3
    with pytest.raises(MemoloopError, match="'Luna' is not known"):
        journal.timeline(mem, subject="Luna")
