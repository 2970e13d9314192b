"""A crawl child opens no control endpoint and writes no token file (issue 12, item 13).

Scrapy 2.19's RemoteControl extension (on by default) listens on a local port that runs Python
sent with a token, and writes the token to a job file under the user's state directory; the
telnet console is the older such endpoint. ``osintel crawl`` runs here with its own
``XDG_STATE_HOME``; while the crawl child waits on a page that hangs, every socket it holds is
looked up in ``/proc/<pid>/net`` (no psutil): none may be listening. When the crawl is over no
file may have been written under the state directory.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import Cli, Server, alive, crawl_children, wait_until

#: /proc/net/tcp* state of a listening socket; /proc/net/unix flag of a listening socket.
TCP_LISTEN = "0A"
UNIX_ACCEPTCON = 0x10000


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def listening_sockets(pid: int) -> list[str]:
    """The listening (TCP, UDP-bound or Unix) sockets ``pid`` holds, as readable strings."""
    mine = _socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if inode not in mine:
                continue
            if (table.startswith("tcp") and state == TCP_LISTEN) or (
                    table.startswith("udp") and not local.endswith(":0000")):
                found.append(f"{table} {local} state {state}")
    for line in Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 7 and cols[6] in mine and int(cols[3], 16) & UNIX_ACCEPTCON:
            found.append(f"unix {' '.join(cols[7:]) or '(anonymous)'}")
    return found


def test_a_crawl_child_listens_on_no_socket_and_leaves_no_token_file(
        servers: tuple[Server, Server], make_cli: Callable[..., Cli]) -> None:
    site = servers[0]
    reached, release = threading.Event(), threading.Event()

    def hang(h: Any) -> None:
        reached.set()
        release.wait(120)
        h._send(200, b"<html><body><p>late</p></body></html>")

    site.routes["/ctl/index.html"] = lambda h: h._send(200, b'<html><body><a href="/ctl/wait">the page that waits</a></body></html>')
    site.routes["/ctl/wait"] = hang
    cli = make_cli(site, [{"id": "ctl", "kind": "web", "urls": [f"{site.base}/ctl/index.html"],
                           "options": {"depth": 1}}], OSINTEL_CRAWL_DOWNLOAD_TIMEOUT="300")
    proc = cli.start("ctl")
    seen: list[str] = []
    try:
        children: list[int] = []

        def found_children() -> bool:
            children.extend(crawl_children(proc.pid))
            return bool(children)

        assert wait_until(found_children, timeout=60)
        child = children[0]
        assert reached.wait(60), "the crawl never reached the waiting page"
        # The engine has started and a request is in flight: sample the child's sockets a while.
        for _ in range(20):
            if alive(child):
                seen.extend(listening_sockets(child))
            time.sleep(0.1)
        written_meanwhile = sorted(str(p.relative_to(cli.state_dir)) for p in cli.state_dir.rglob("*"))
    finally:
        release.set()
    out, err = proc.communicate(timeout=120)
    assert [row["status"] for row in json.loads(out)] == ["ok"], err[-3000:]
    assert sorted(set(seen)) == [], "the crawl child listened on a socket"
    assert written_meanwhile == []
    assert sorted(str(p.relative_to(cli.state_dir)) for p in cli.state_dir.rglob("*")) == []
    assert "Remote control" not in err and "Telnet console" not in err
