"""`memoloop up`: the real command, a real Streamlit server on 127.0.0.1, stopped with Ctrl-C."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import first_line, run_cli

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def test_up_prints_its_url_serves_and_stops_cleanly_on_ctrl_c(home_dir):
    port = free_port()
    exe = Path(sys.executable).with_name("memoloop")
    server = subprocess.Popen([str(exe), "up", "--port", str(port), "--home", str(home_dir)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first_line(server.stdout, timeout=90).startswith(f"memoloop is running at http://{HOST}:{port} ")
        with urllib.request.urlopen(f"http://{HOST}:{port}/_stcore/health", timeout=10) as reply:
            assert reply.read() == b"ok"

        again = run_cli("up", "--port", str(port), home=home_dir)
        assert again.returncode == 2 and "already in use" in again.stderr and "Traceback" not in again.stderr
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=30)
    assert code == 0, server.stderr.read()
    assert port_is_free(port)  # the Streamlit child stopped with it
    assert (home_dir / "logs" / "ui.log").exists()
