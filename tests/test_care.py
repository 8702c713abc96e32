"""The care plan (memory.care): what is due, read from the notes; reminders; the `due` and `care` commands."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select

from agent.pack import load_pack
from memory import care, journal
from memory.models import CareItem, Reminder
from ui.cli import main

TODAY = date.today()


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def due_json(home_dir, capsys, *args) -> dict:
    capsys.readouterr()
    assert main(["due", "--all", "--json", *args, "--home", str(home_dir)]) == 0
    return {(d["subject"], d["name"]): d for d in json.loads(capsys.readouterr().out)}


def test_an_old_vaccine_and_a_late_flea_treatment_are_overdue_until_logged(home_dir, capsys):
    """The issue's case: a vaccine 13 months ago, a monthly flea treatment last logged 5 weeks ago."""
    for args in (["subjects", "add", "Sora", "--sex", "male"], ["subjects", "add", "Mochi"],
                 ["log", "FVRCP booster at the Elm Street vet", "--subject", "Sora", "--kind", "vaccine", "--at", ago(396)],
                 ["log", "Did the Stronghold flea drops on both cats", "--at", ago(35)]):  # a household note
        assert main([*args, "--home", str(home_dir)]) == 0
    due = due_json(home_dir, capsys)
    assert due[("Sora", "Core vaccines")]["status"] == "overdue"
    assert due[("Sora", "Core vaccines")]["next_due"] == (TODAY - timedelta(days=31)).isoformat()
    assert due[("Sora", "Flea treatment")]["status"] == "overdue"
    assert due[("Mochi", "Flea treatment")]["status"] == "overdue"  # the household note was for both
    assert due[("Mochi", "Core vaccines")]["status"] == "unknown"  # never logged for Mochi
    assert "WSAVA" in due[("Sora", "Core vaccines")]["source"]

    assert main(["log", "gave Sora his flea drops", "--subject", "Sora", "--home", str(home_dir)]) == 0
    due = due_json(home_dir, capsys)
    assert due[("Sora", "Flea treatment")]["status"] == "done"
    assert due[("Sora", "Flea treatment")]["next_due"] == (TODAY + timedelta(days=30)).isoformat()
    assert due[("Mochi", "Flea treatment")]["status"] == "overdue"  # Sora's note is not Mochi's
    assert main(["due", "--home", str(home_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("OVERDUE") and "Sora: Core vaccines: overdue by 31 days" in lines[0]
    assert not any("UNKNOWN" in line for line in lines)  # without --all: only what needs doing or is done


def test_what_counts_as_done(mem):
    for pet in ("Sora", "Mochi"):
        journal.add_subject(mem, pet)
    care.ensure_defaults(mem, list(load_pack().care))
    journal.log(mem, "Forgot the flea drops again", subject="Sora", at=ago(1))  # not done
    journal.log(mem, "Trimmed Mochi's claws while she slept", subject="Sora", at=ago(3))  # names the other pet
    journal.log(mem, "Milbemax for Sora only", at=ago(4))  # a household note naming one pet
    journal.log(mem, "Changed the litter completely and scrubbed the tray", at=ago(2))
    found = {(d.subject, d.item.name): d for d in care.due(mem)}
    assert found[("Sora", "Flea treatment")].status == "unknown"
    assert found[("Mochi", "Nail trim")].last.text.startswith("Trimmed Mochi's claws")
    assert found[("Sora", "Nail trim")].status == "unknown"
    assert found[("Sora", "Worming")].status == "ok" and found[("Mochi", "Worming")].status == "unknown"
    litter = found[(care.HOUSEHOLD, "Litter tray emptied and washed")]  # one item for the home, not one per cat
    assert litter.status == "ok" and litter.next_due == TODAY + timedelta(days=12)


def test_a_daily_medication_shows_its_missed_doses(mem):
    journal.add_subject(mem, "Mochi")
    item = care.add(mem, "Mochi", "Felimazole", 1, kind="medication", dose="2.5 mg", times="20:00, 08:00")
    assert item.times == ["08:00", "20:00"]
    with mem.session() as s:  # on the plan for three days
        row = s.get(CareItem, item.id)
        row.created_at = row.created_at - timedelta(days=3)
        s.add(row)
        s.commit()
    for days, n in ((3, 2), (2, 1), (1, 2)):
        for _ in range(n):
            journal.log(mem, "Gave Mochi her Felimazole", subject="Mochi", kind="medication", at=ago(days))
    d = next(d for d in care.due(mem) if d.item.id == item.id)
    assert d.missed == [(TODAY - timedelta(days=2), 1)]
    assert "1 missed in the last 7 days" in d.label and "0 of 2 doses given today" in d.label
    care.log_done(mem, item.id)
    care.log_done(mem, item.id)
    d = next(d for d in care.due(mem) if d.item.id == item.id)
    assert d.status == "done" and d.doses_today == 2


def test_reminders_are_recorded_once_and_shown_once(mem):
    journal.add_subject(mem, "Sora")
    journal.log(mem, "Annual booster", subject="Sora", kind="vaccine", at=ago(400))
    from retrain.schedule import check_care

    assert check_care(mem) == 1  # the vaccine; the other defaults were never logged: nothing to remind
    assert check_care(mem) == 0  # the scheduler runs every 15 minutes: one reminder per due day
    shown = care.unshown_reminders(mem)
    assert [(item.name, whose, r.status) for r, item, whose in shown] == [("Core vaccines", "Sora", "overdue")]
    assert care.unshown_reminders(mem) == []
    with mem.session() as s:
        assert len(s.exec(select(Reminder)).all()) == 1


def test_a_stopped_default_stays_stopped_and_a_new_pet_gets_the_defaults(mem):
    journal.add_subject(mem, "Sora")
    defaults = list(load_pack().care)
    assert care.ensure_defaults(mem, defaults) == len(defaults)
    worming = next(i for i, _ in care.items(mem) if i.name == "Worming")
    care.update(mem, worming.id, active=False)
    assert care.ensure_defaults(mem, defaults) == 0
    journal.add_subject(mem, "Mochi")
    assert care.ensure_defaults(mem, defaults) == len(defaults) - 1  # the household's litter tray is there already
    assert [whose for i, whose in care.items(mem) if i.name == "Worming"] == ["Mochi"]


@pytest.mark.parametrize("args, message", [
    (["--every", "0"], "--every 0 is out of range; give 1 to 1098 days"),
    (["--every", "two"], "--every 'two' is not a whole number of days"),
    (["--every", "1", "--dose", "5"], "--dose '5' has no amount with a unit"),
    (["--every", "1", "--times", "8pm"], "--times '8pm' is not a time of day"),
    (["--every", "7", "--times", "08:00"], "is for a daily medication; give --every 1"),
    (["--every", "30", "--kind", "snack"], "kind 'snack' is not known"),
])
def test_a_bad_care_item_is_one_line_exit_2_and_nothing_stored(home_dir, capsys, args, message):
    assert main(["subjects", "add", "Mochi", "--home", str(home_dir)]) == 0
    capsys.readouterr()
    assert main(["care", "list", "--json", "--home", str(home_dir)]) == 0
    before = capsys.readouterr().out
    assert main(["care", "add", "Felimazole", "--subject", "Mochi", *args, "--home", str(home_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert main(["care", "list", "--json", "--home", str(home_dir)]) == 0
    assert capsys.readouterr().out == before


def test_care_commands_add_change_stop_and_log_done(home_dir, capsys):
    assert main(["subjects", "add", "Mochi", "--home", str(home_dir)]) == 0
    capsys.readouterr()
    assert main(["care", "add", "Ear drops", "--subject", "Mochi", "--every", "1", "--dose", "2 drops",
                 "--times", "08:00", "--json", "--home", str(home_dir)]) == 0
    item = json.loads(capsys.readouterr().out)
    assert (item["kind"], item["dose"], item["times"]) == ("medication", "2 drops", ["08:00"])
    assert main(["care", "set", str(item["id"]), "--times", "08:00,20:00", "--home", str(home_dir)]) == 0
    assert main(["care", "done", str(item["id"]), "--json", "--home", str(home_dir)]) == 0
    capsys.readouterr()
    due = due_json(home_dir, capsys)
    assert due[("Mochi", "Ear drops")]["doses_today"] == 1 and due[("Mochi", "Ear drops")]["times"] == ["08:00", "20:00"]
    assert main(["care", "stop", str(item["id"]), "--home", str(home_dir)]) == 0
    assert ("Mochi", "Ear drops") not in due_json(home_dir, capsys)
    assert main(["care", "set", "Ear drops", "--every", "2", "--home", str(home_dir)]) == 2
    assert "needs the item's ID" in capsys.readouterr().err


def test_the_care_plan_travels_in_the_backup(home_dir, tmp_path, capsys):
    assert main(["subjects", "add", "Mochi", "--home", str(home_dir)]) == 0
    assert main(["care", "add", "Felimazole", "--subject", "Mochi", "--dose", "2.5 mg", "--times", "08:00",
                 "--home", str(home_dir)]) == 0
    capsys.readouterr()
    assert main(["care", "list", "--json", "--home", str(home_dir)]) == 0
    plan = {i["name"]: i for i in json.loads(capsys.readouterr().out)}
    assert main(["care", "set", str(plan["Worming"]["id"]), "--every", "180", "--home", str(home_dir)]) == 0
    out = tmp_path / "backup.zip"
    assert main(["export", "--out", str(out), "--home", str(home_dir)]) == 0
    other = tmp_path / "other"
    assert main(["subjects", "add", "Mochi", "--home", str(other)]) == 0
    assert main(["due", "--home", str(other)]) == 0  # this home has given Mochi the defaults already
    assert main(["import", str(out), "--home", str(other)]) == 0
    capsys.readouterr()
    assert main(["care", "list", "--json", "--home", str(other)]) == 0
    restored = {i["name"]: i for i in json.loads(capsys.readouterr().out)}
    assert sorted(restored) == sorted(plan)  # no default twice
    assert restored["Worming"]["every_days"] == 180 and restored["Worming"]["source"] == "you"
    assert (restored["Felimazole"]["dose"], restored["Felimazole"]["times"]) == ("2.5 mg", ["08:00"])


def test_the_vet_summary_holds_the_periods_medications_vaccines_and_weights_and_no_other_pet(mem, home_dir, tmp_path, capsys):
    import html

    from memory import summary

    journal.add_subject(mem, "Mochi", sex="female", neutered=True, birth_date="2018-05-01",
                        notes="Microchip 941000024681357")
    journal.add_subject(mem, "Luna")
    care.add(mem, "Mochi", "Felimazole", 1, dose="2.5 mg", times="08:00,20:00")
    notes = [("Mochi", "2024-12-20", "medication", "Mochi finished her antibiotics (Synulox)", None),  # before
             ("Mochi", "2025-02-01", "vaccine", "Mochi's FVRCP booster", None),
             ("Mochi", "2025-03-05", "medication", "Started Mochi on Felimazole 2.5 mg twice daily", None),
             ("Mochi", "2025-03-05", "weight", "Mochi weighs 4.4 kg", 4.4),
             ("Mochi", "2025-06-10", "symptom", "Mochi vomited twice after breakfast", None),
             ("Mochi", "2025-06-11", "weight", "Mochi weighs 4.1 kg", 4.1),
             (None, "2025-04-01", "medication", "Did the Stronghold flea drops on both cats", None),
             ("Luna", "2025-05-01", "vaccine", "Luna's rabies jab", None),
             ("Luna", "2025-05-02", "weight", "Luna weighs 3.9 kg", 3.9),
             ("Luna", "2025-05-03", "medication", "Luna on Metacam 0.5 ml", None)]
    for pet, day, kind, text, kg in notes:
        journal.log(mem, text, subject=pet, at=day, kind=kind, metrics={"weight_kg": kg} if kg else None)
    built = summary.build(mem, "Mochi", date(2025, 1, 1), date(2025, 12, 31))
    page = summary.html(built)
    for _, day, _, text, _ in [n for n in notes if n[0] in ("Mochi", None) and n[1] >= "2025"]:
        if "weighs" not in text:
            assert html.escape(text) in page, text
    assert "Felimazole 2.5 mg, every 1 day(s) at 08:00, 20:00" in page  # the care plan's
    assert [p.value for p in built.weights] == [4.4, 4.1] and "<svg" in page
    assert "941000024681357" in page and "female" in page
    assert "Synulox" not in page  # before the period
    assert not any(word in page for word in ("Luna", "rabies", "3.9 kg", "Metacam"))  # nothing of the other pet
    out = tmp_path / "mochi.html"
    assert main(["summary", "Mochi", "--since", "2025-01-01", "--out", str(out), "--home", str(home_dir)]) == 0
    assert html.escape("Mochi's FVRCP booster") in out.read_text() and "wrote" in capsys.readouterr().out
    assert main(["summary", "Mochi", "--since", "2025-13-01", "--home", str(home_dir)]) == 2
    assert "--since '2025-13-01' is not a date" in capsys.readouterr().err
