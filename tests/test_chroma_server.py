"""The search index on a Chroma server (`chroma run`, on loopback): the same journal and recall, the
vectors on the server, a server that stops answering loses nothing, and a home moves between the
embedded index and a server without a stale note."""
import json

import chromadb
import pytest
from chromadb.config import Settings
from sqlmodel import select

from memory import journal
from memory.engines import CHROMA_ENV, FILE, Engines, chroma_address, chroma_server
from memory.errors import MemoloopError
from memory.index import IndexUnavailable, ObservationIndex
from memory.models import Observation
from memory.recall import recall
from memory.store import Memory
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with chroma_server(tmp_path_factory.mktemp("chroma") / "data") as url:
        yield url


def on_server(monkeypatch, url: str) -> None:
    monkeypatch.setenv(CHROMA_ENV, url)


def server_vectors(url: str, mem: Memory) -> set[int]:
    """The note ids whose vectors the server holds for this home, asked of the server directly."""
    address = chroma_address(url)
    client = chromadb.HttpClient(host=address.host, port=address.port, database=mem.index.database,
                                 settings=Settings(anonymized_telemetry=False))
    ids = set()
    for collection in client.list_collections():
        if collection.name.startswith("observations-"):
            ids |= {int(i) for i in collection.get(include=[])["ids"]}
    return ids


def texts(found) -> list[str]:
    return [h.text for h in found.relevant]


def test_a_home_on_a_server_keeps_its_vectors_there_and_recalls_from_them(server, monkeypatch, home_dir):
    on_server(monkeypatch, server)
    with Memory.open(home_dir) as mem:
        journal.add_subject(mem, "Mochi")
        sneeze = journal.log(mem, "Mochi sneezed twice this morning", subject="Mochi", at="2026-11-02").id
        grass = journal.log(mem, "Mochi ate grass and threw it up", subject="Mochi", at="2026-11-03").id
        assert texts(recall(mem, "When did Mochi sneeze?")) == ["Mochi sneezed twice this morning"]
        assert server_vectors(server, mem) == {sneeze, grass}
        assert mem.pending() == 0
    folder = ObservationIndex(home_dir / "chroma")  # the folder in the home stays empty
    assert folder.count() == 0
    folder.close()


def test_two_homes_on_one_server_each_see_only_their_own_notes(server, monkeypatch, tmp_path):
    on_server(monkeypatch, server)
    with Memory.open(tmp_path / "a") as a, Memory.open(tmp_path / "b") as b:
        journal.log(a, "The vet trimmed the claws")
        journal.log(b, "Bought a new scratching post")
        assert texts(recall(a, "What about the claws?")) == ["The vet trimmed the claws"]
        assert texts(recall(b, "What about the claws?")) == []
        assert a.index.database != b.index.database


def test_a_server_that_stops_answering_loses_no_note_and_the_next_contact_indexes_it(monkeypatch, tmp_path):
    data, home = tmp_path / "chroma", tmp_path / "home"
    with chroma_server(data) as url:
        on_server(monkeypatch, url)
        with Memory.open(home) as mem:
            journal.log(mem, "Luna drank a lot of water today")
    port = chroma_address(url).port
    with Memory.open(home) as mem:  # the server is down
        with pytest.raises(IndexUnavailable, match=f"Chroma server at {url} does not answer.*notes are safe"):
            journal.log(mem, "Luna slept on the radiator all afternoon")
        with mem.session() as s:
            assert [(o.text, o.indexed) for o in s.exec(select(Observation).order_by(Observation.id))] == \
                [("Luna drank a lot of water today", True), ("Luna slept on the radiator all afternoon", False)]
        assert mem.pending() == 1
    with chroma_server(data, port=port):  # back, with what it held
        with Memory.open(home) as mem:
            assert texts(recall(mem, "Where did Luna sleep?"))[:1] == ["Luna slept on the radiator all afternoon"]
            assert mem.pending() == 0 and mem.index.count() == 2


def test_a_home_moves_to_a_server_and_back_without_a_stale_note(server, home_dir):
    assert run_cli("log", "Mochi vomited after breakfast", home=home_dir).returncode == 0
    moved = run_cli("settings", "--chroma-url", server, "--json", home=home_dir)
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["chroma_url"] == server
    assert json.loads((home_dir / FILE).read_text())["chroma_url"] == server
    assert run_cli("log", "Mochi sneezed three times", home=home_dir).returncode == 0  # on the server only
    back = run_cli("settings", "--chroma-url", "", home=home_dir)
    assert back.returncode == 0, back.stderr
    found = json.loads(run_cli("recall", "When did Mochi sneeze?", "--json", home=home_dir).stdout)
    assert [h["text"] for h in found][:1] == ["Mochi sneezed three times"]
    with Memory.open(home_dir) as mem:  # the folder it used before was refilled, not trusted
        assert mem.engines == Engines() and mem.index.count() == 2 and mem.pending() == 0


def test_a_bad_or_silent_server_url_is_one_line_exit_2_and_changes_nothing(home_dir, server):
    assert run_cli("settings", "--chroma-url", server, home=home_dir).returncode == 0
    saved = (home_dir / FILE).read_text()
    for url, says in [("ftp://x", "Chroma server URL 'ftp://x' is not valid; use http://HOST:PORT"),
                      ("http://127.0.0.1", "Chroma server URL 'http://127.0.0.1' is not valid"),
                      ("http://127.0.0.1:9", "the Chroma server at http://127.0.0.1:9 does not answer")]:
        done = run_cli("settings", "--chroma-url", url, "--device", "cpu", home=home_dir)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
        assert (home_dir / FILE).read_text() == saved
        assert not (home_dir / "settings.json").exists()  # --device cpu was not saved either


def test_doctor_names_each_engine_its_version_and_whether_it_answers(tmp_path, home_dir):
    embedded = run_cli("doctor", "--json", home=home_dir)
    assert embedded.returncode == 0, embedded.stderr
    database, index = json.loads(embedded.stdout)
    assert (database["engine"], database["answers"]) == ("SQLite", True)
    assert (index["engine"], index["version"], index["answers"]) == ("Chroma (embedded)", chromadb.__version__, True)
    with chroma_server(tmp_path / "chroma") as url:
        assert run_cli("settings", "--chroma-url", url, home=home_dir).returncode == 0
        up = run_cli("doctor", home=home_dir)
        assert up.returncode == 0 and f"search index: Chroma server 1.0.0 at {url} (database memoloop-" in up.stdout
    down = run_cli("doctor", home=home_dir)
    assert down.returncode == 2
    assert f"search index: Chroma server at {url}: does NOT answer; the Chroma server at {url}" in down.stdout


def test_the_environment_wins_over_the_home_and_is_checked(tmp_path, monkeypatch):
    Engines(chroma_url="http://10.0.0.2:8000").save(tmp_path)
    monkeypatch.delenv(CHROMA_ENV, raising=False)
    assert Engines.of(tmp_path).chroma == chroma_address("http://10.0.0.2:8000")
    monkeypatch.setenv(CHROMA_ENV, "")
    assert Engines.of(tmp_path) == Engines()
    monkeypatch.setenv(CHROMA_ENV, "localhost:8000")
    with pytest.raises(MemoloopError, match=r"'localhost:8000' is not valid.*\(it comes from \$MEMOLOOP_CHROMA_URL\)"):
        Engines.of(tmp_path)
    (tmp_path / FILE).write_text("{not json")
    monkeypatch.delenv(CHROMA_ENV)
    with pytest.raises(MemoloopError, match="engines file .* is unreadable"):
        Engines.of(tmp_path)
