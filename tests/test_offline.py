"""Nobody let in: the whole loop with the network blocked, files private, text shown as text."""
import json
import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import markdown_it

from agent.settings import Settings
from memory.home import Home
from memory.store import Memory
from retrain.schedule import set_policy
from tests.conftest import REPO, first_line
from tests.test_retrain import FAST
from ui.conversation import markdown_safe

GUARD = REPO / "tests" / "offline_guard"  # its sitecustomize logs and refuses non-loopback sockets


def cli(home, log, *args, check=True):
    env = dict(os.environ, PYTHONPATH=f"{GUARD}{os.pathsep}{REPO}", MEMOLOOP_NET_LOG=str(log),
               HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0")  # a careless environment: memoloop forces them back
    exe = Path(sys.executable).with_name("memoloop")
    started = time.monotonic()
    result = subprocess.run([str(exe), *args, "--home", str(home)], capture_output=True, text=True, env=env,
                            timeout=600)
    assert not check or result.returncode == 0, (args, result.stderr)
    print(f"{time.monotonic() - started:6.1f} s  memoloop {' '.join(args)[:60]}")
    return result


def test_the_whole_loop_with_the_network_blocked_makes_no_connection_and_keeps_files_private(
        tmp_path, tiny_gemma_dir):
    home, log = tmp_path / "home", tmp_path / "connections.log"
    log.write_text("")
    Settings(base_model=str(tiny_gemma_dir), max_new_tokens=12).save(Home.open(home))
    with Memory(Home.open(home)) as mem:  # a short retrain: the tiny model learns nothing more from more steps
        set_policy(mem, config=FAST)
    cli(home, log, "subjects", "add", "Mochi", "--sex", "female")
    cli(home, log, "log", "Mochi sneezed twice", "--subject", "Mochi", "--at", "2025-01-11")
    records = tmp_path / "mine.json"
    records.write_text(json.dumps([{"instruction": "Is lily toxic to cats?", "output": "Yes: every part of it."},
                                   {"instruction": "Can cats eat onions?", "output": "No: onions harm cats."},
                                   {"instruction": "Are grapes safe for cats?", "output": "No: avoid grapes."}]))
    cli(home, log, "dataset", "import", str(records))
    for i in range(1):
        asked = json.loads(cli(home, log, "ask", f"When did Mochi sneeze? ({i})", "--json").stdout)
        cli(home, log, "feedback", str(asked["interaction_id"]), "--down",
            "--correction", "Mochi sneezed twice on 2025-01-11.")
    retrain = json.loads(cli(home, log, "retrain", "--now", "--json").stdout)
    assert retrain["status"] in ("succeeded", "rejected"), retrain
    if not retrain["promoted"]:
        cli(home, log, "adapters", "activate", retrain["adapter"])
    cli(home, log, "export", "--out", str(home / "backup.zip"))

    server = subprocess.Popen([str(Path(sys.executable).with_name("memoloop")), "up", "--port", "8631",
                               "--home", str(home)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=dict(os.environ, PYTHONPATH=f"{GUARD}{os.pathsep}{REPO}",
                                       MEMOLOOP_NET_LOG=str(log)))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = first_line(server.stdout, timeout=deadline - time.monotonic())
            if "127.0.0.1:8631" in line:
                break
        with urllib.request.urlopen("http://127.0.0.1:8631/_stcore/health", timeout=30) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=60)

    assert log.read_text() == "", log.read_text()  # 0 connection attempts beyond this machine
    loose = [p for p in home.rglob("*")
             if stat.S_IMODE(p.stat().st_mode) & 0o077 and not p.is_symlink()]
    assert stat.S_IMODE(home.stat().st_mode) == 0o700 and loose == [], loose


def test_the_guard_does_see_a_connection(tmp_path):
    """The check above can fail: a process that does try to reach the network is caught."""
    log = tmp_path / "connections.log"
    log.write_text("")
    code = "import socket\ntry:\n    socket.create_connection(('203.0.113.9', 443), timeout=1)\nexcept OSError:\n    pass"
    subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(GUARD),
                                                          MEMOLOOP_NET_LOG=str(log)), check=True, timeout=60)
    assert "203.0.113.9" in log.read_text()


def test_an_old_home_is_made_private_when_opened(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    Home.open(home)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in home.iterdir() if p.is_dir())


def test_user_text_is_shown_as_text():
    """A note with an image, a link, HTML or a formula renders as those characters, fetching nothing."""
    note = "Mochi ![x](https://evil.example/a.png) <img src=https://e.example/x> [vet](http://b.example) $5 # 4.2 kg"
    html = markdown_it.MarkdownIt("commonmark").render(markdown_safe(note))
    assert "<img" not in html and "<a " not in html and "<h1" not in html
    assert html == "<p>Mochi ![x](https://evil.example/a.png) &lt;img src=https://e.example/x&gt; " \
                   "[vet](http://b.example) $5 # 4.2 kg</p>\n"
