"""`memoloop up`: the app in the browser, on this machine only, until Ctrl-C.

Streamlit runs as a child process (`streamlit run ui/app.py`) bound to 127.0.0.1; its own
output goes to <home>/logs/ui.log so the terminal shows only memoloop's lines.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from memory.errors import MemoloopError
from memory.home import ENV_VAR, Home

PRELOAD_ENV = "MEMOLOOP_PRELOAD"  # "1": the app starts loading the model as soon as it starts
APP = Path(__file__).with_name("app.py")
HOST = "127.0.0.1"
STARTUP_SECONDS = 60
STOP_SECONDS = 10
HOUSEHOLDS_CHECK_S = 60  # how often `up` looks for a household added since it started
THEME = {"primaryColor": "#c8553d", "backgroundColor": "#fffaf5",
         "secondaryBackgroundColor": "#f6ede4", "textColor": "#2d2a26"}


def streamlit_command(port: int) -> list[str]:
    flags = [f"--server.address={HOST}", f"--server.port={port}", "--server.headless=true",
             "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
             "--client.toolbarMode=viewer"]
    flags += [f"--theme.{key}={value}" for key, value in THEME.items()]
    return [sys.executable, "-m", "streamlit", "run", str(APP), *flags]


def check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise MemoloopError(f"--port {port} is not a port; use a number from 1024 to 65535, e.g. 8501")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is free
        try:
            probe.bind((HOST, port))
        except OSError:
            raise MemoloopError(f"port {port} on {HOST} is already in use (is memoloop already running?); "
                                "pick another with --port N") from None


def start_server(home: Home, port: int) -> subprocess.Popen:
    env = dict(os.environ, **{ENV_VAR: str(home.root), PRELOAD_ENV: "1"})
    # Its own session: Ctrl-C reaches only us, and we stop the server in order.
    with open(home.logs_dir / "ui.log", "ab") as log:
        return subprocess.Popen(streamlit_command(port), env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def wait_until_ready(server: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise MemoloopError(f"the web server stopped at start (exit {server.returncode}); "
                                f"its last lines:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    stop(server)
    raise MemoloopError(f"the web server did not answer within {STARTUP_SECONDS} s; see {log_path}")


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def up(home_path: Path | None, port: int) -> int:
    """Serve the app until Ctrl-C or SIGTERM.

    The retrain scheduler runs in this process beside the web server: it starts once the server
    is ready and stops in the `finally`.
    """
    home = Home.open(home_path)
    check_port(port)
    url = f"http://{HOST}:{port}"
    # Ctrl-C and SIGTERM (a service manager) both stop us in order; SIGINT explicitly, because a
    # shell starts background jobs with it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    server = start_server(home, port)
    schedulers: dict = {}
    try:
        wait_until_ready(server, url, home.logs_dir / "ui.log")
        start_schedulers(home, schedulers)
        print(f"memoloop is running at {url}  (data home: {home.root})", flush=True)
        for line in schedule_lines(schedulers):
            print(f"Retraining{line}", flush=True)
        print("Open it in your browser; press Ctrl-C here to stop.", flush=True)
        while True:
            try:
                code = server.wait(timeout=HOUSEHOLDS_CHECK_S)
                break
            except subprocess.TimeoutExpired:
                for name in start_schedulers(home, schedulers):  # a household added meanwhile
                    print(f"Retraining for {name} too: its scheduler started", flush=True)
        if code != 0:
            print(f"memoloop: the web server stopped (exit {code}); see {home.logs_dir / 'ui.log'}",
                  file=sys.stderr)
        return 1 if code else 0
    except KeyboardInterrupt:
        print("\nstopping memoloop…", flush=True)
        return 0
    finally:
        for scheduler, _ in schedulers.values():
            scheduler.shutdown(wait=False)
        stop(server)


def households(home: Home) -> list[str | None]:
    """Each household on the home's database (server mode), or [None]: the one journal."""
    from memory import households as accounts
    from memory.engines import Engines

    return accounts.names_at(Engines.of(home.root).database_url) or [None]


def start_schedulers(home: Home, running: dict) -> list[str | None]:
    """One scheduler per `up` and household (not per Streamlit session): this process owns them.
    Starts those missing from `running` (household -> (scheduler, its memory)) and returns their
    households."""
    from memory.db import DatabaseUnavailable
    from memory.store import Memory
    from retrain import schedule

    try:
        missing = [name for name in households(home) if name not in running]
    except DatabaseUnavailable:
        return []  # the server is away for now: the next check starts them
    for name in missing:
        mem = Memory(home, household=name)
        running[name] = (schedule.start(mem), mem)
    return missing


def schedule_lines(running: dict) -> list[str]:
    """": next 2026-12-06 03:30 (cron ...)", one per household (" for Shelter A: next ...")."""
    from retrain import schedule

    lines = []
    for name, (_, mem) in running.items():
        pol, nxt = schedule.policy(mem), schedule.next_run(mem)
        when = nxt.astimezone().strftime("%Y-%m-%d %H:%M") if nxt else "paused"
        lines.append(f"{f' for {name}' if name else ''}: next {when} (cron '{pol.cron}', "
                     f"after {pol.min_new_records} new approved answers)")
    return lines
