"""Loaded by every Python process a test starts with this folder on PYTHONPATH: any attempt to
reach an address that is not this machine is written to $MEMOLOOP_NET_LOG and refused."""
import ipaddress
import os
import sys

LOG = os.environ.get("MEMOLOOP_NET_LOG")


def _local(host) -> bool:
    if host is None or host in ("localhost", "", b"localhost"):
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback or str(host) in ("0.0.0.0", "::")
    except ValueError:
        return False


def _hook(event, args):
    if event == "socket.connect" or event == "socket.sendto":
        address = args[1] if event == "socket.connect" else args[2]
        host = address[0] if isinstance(address, tuple) else None  # AF_UNIX: a path, always local
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    if not _local(host):
        with open(LOG, "a") as log:
            log.write(f"{os.getpid()} {sys.argv[:2]} {event} {host}\n")
        raise OSError(f"network blocked by the test: {event} {host}")


if LOG:
    sys.addaudithook(_hook)
