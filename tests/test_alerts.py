"""Trends the code notices (memory.alerts), with the domain pack's rules, on real SQLite."""
from __future__ import annotations

import json
from datetime import date, timedelta

from agent.pack import load_pack
from memory import alerts, care, journal
from ui.cli import main

TODAY = date.today()
RULES = list(load_pack().trends)


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def weigh(mem, pet: str, kgs: list[tuple[int, float]]) -> None:
    for days, kg in kgs:
        journal.log(mem, f"{pet} weighed {kg} kg", subject=pet, kind="weight", at=ago(days),
                    metrics={"weight_kg": kg})


def by_pet(found) -> dict:
    return {(f.subject, f.rule): f for f in found}


def test_a_weight_that_falls_10_percent_in_90_days_is_an_alert_with_its_evidence(mem):
    for pet in ("Mochi", "Luna", "Sora"):
        journal.add_subject(mem, pet)
    weigh(mem, "Mochi", [(200, 5.0), (80, 5.0), (40, 4.7), (5, 4.5)])  # -10% in 75 days
    weigh(mem, "Luna", [(80, 4.0), (40, 4.05), (5, 3.98)])  # steady
    weigh(mem, "Sora", [(300, 6.0), (60, 6.0), (2, 5.7)])  # -5%: worth watching
    found = by_pet(alerts.evaluate(mem, RULES))
    mochi = found[("Mochi", "weight-change")]
    assert mochi.level == "vet"
    assert mochi.message.startswith("Mochi's weight went down 10.0% in 75 days (5 kg on")
    assert [p.value for p in mochi.points] == [5.0, 4.7, 4.5] and len(mochi.notes) == 3
    assert ("Luna", "weight-change") not in found
    assert found[("Sora", "weight-change")].level == "watch"


def test_vomiting_more_often_than_usual_and_a_medication_stopped_without_a_note(mem):
    for pet in ("Mochi", "Luna"):
        journal.add_subject(mem, pet)
    for days in (2, 6, 11):
        journal.log(mem, "Mochi threw up her breakfast", subject="Mochi", kind="symptom", at=ago(days))
    for days in (20, 80, 150, 170):  # Luna brings up a hairball now and then
        journal.log(mem, "Luna vomited a hairball", subject="Luna", kind="symptom", at=ago(days))
    for days in (3, 9):
        journal.log(mem, "Luna vomited a hairball", subject="Luna", kind="symptom", at=ago(days))
    item = care.add(mem, "Luna", "Felimazole", 1, dose="2.5 mg", times="08:00")
    for days in (6, 5, 4):
        journal.log(mem, "Gave Luna her Felimazole", subject="Luna", kind="medication", at=ago(days))
    found = by_pet(alerts.evaluate(mem, RULES))
    vomiting = found[("Mochi", "vomiting-more-often")]
    assert vomiting.message == "Mochi: 3 notes of vomiting in the last 14 days (usually 0.0)"
    assert len(vomiting.notes) == 3
    assert ("Luna", "vomiting-more-often") not in found  # 2 in two weeks: fewer than 3
    stopped = found[("Luna", "medication-stopped")]
    assert "no Felimazole logged for 4 days" in stopped.message
    journal.log(mem, "Vet says Luna can stop the Felimazole now", subject="Luna", at=ago(3))
    assert ("Luna", "medication-stopped") not in by_pet(alerts.evaluate(mem, RULES))
    assert item.id


def test_alerts_are_stored_while_they_hold_and_cleared_after(mem, home_dir, capsys):
    journal.add_subject(mem, "Mochi")
    weigh(mem, "Mochi", [(60, 5.0), (3, 4.4)])
    assert main(["alerts", "--json", "--home", str(home_dir)]) == 0
    [alert] = json.loads(capsys.readouterr().out)
    assert (alert["subject"], alert["level"], alert["rule"]) == ("Mochi", "vet", "weight-change")
    assert [e["text"] for e in alert["evidence"]] == ["Mochi weighed 5.0 kg", "Mochi weighed 4.4 kg"]
    assert main(["alerts", "--home", str(home_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SEE A VET Mochi's weight went down 12.0% in 57 days") and "Mochi weighed 4.4 kg" in out
    assert [a.id for a in alerts.check(mem, RULES)] == [alert["id"]]  # the same alert, still open
    weigh(mem, "Mochi", [(1, 4.9)])  # back up: -2% on the 90 days before
    assert alerts.check(mem, RULES) == []
    assert main(["alerts", "--home", str(home_dir)]) == 0
    assert capsys.readouterr().out.startswith("no alerts")
