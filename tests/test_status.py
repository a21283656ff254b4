"""The live status line: on a pseudo-terminal it moves through every stage of a run
against a slow fake endpoint (testkit/fakeserver.py, hand-built answers); piped, the
output has no control characters at all."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from testkit.fakeserver import FakeServer, content

from summarize import ProgressEvent
from summarize.cli.status import StatusLine
from tests.support import ARTICLES, NTV
from tests.test_mapreduce import LONG

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LATENCY = 0.3  # seconds per answer


def _command(path: Path, url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "summarize", str(path), "--base-url", url,
            "--model", "fake", *extra]  # fmt: skip


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OPENAI_API_KEY": "sk-test"}
    env.pop("TERM", None)
    return env


def on_a_terminal(
    command: list[str], timeout: float = 120, *, columns: int = 160, **env: str
) -> tuple[int, str, list[str]]:
    """Run ``command`` with stderr on a pseudo-terminal ``columns`` wide: its exit code,
    stdout, and every status line drawn on stderr (in order, ANSI codes removed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
        env={**_env(), **env},
    )  # fmt: skip
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        screen += data
    os.close(master)
    assert process.stdout is not None
    with process.stdout:
        out = process.stdout.read().decode()
    code = process.wait(timeout=30)
    drawn = [ANSI.sub("", piece).strip() for piece in re.split(r"[\r\n]", screen.decode())]
    return code, out, [line for line in drawn if line]


def stages_of(lines: list[str]) -> list[str]:
    """The stage each status line shows, each run of repeats once."""
    out: list[str] = []
    for line in lines:
        found = re.search(r"\b(reading|briefing|checking|re-asking|merging|done)\b", line)
        if found and (not out or out[-1] != found[1]):
            out.append(found[1])
    return out


@pytest.mark.slow
def test_the_status_line_moves_through_every_stage_and_its_clock_runs(tmp_path):
    path = tmp_path / "ntv.txt"
    path.write_text(NTV, encoding="utf-8")
    with FakeServer(latency=LATENCY) as server:
        server.queue(content("this is not JSON"))  # a first answer to re-ask
        code, out, lines = on_a_terminal(_command(path, server.url))
    assert code == 0, lines
    assert out.startswith("ntv\n\nSummary\n")
    assert stages_of(lines) == ["reading", "briefing", "checking", "re-asking", "checking", "done"]
    reask = next(line for line in lines if "re-asking" in line)
    assert "not valid JSON" in reask or "JSON" in reask
    briefing = [line for line in lines if "briefing" in line]
    assert all("fake @ 127.0.0.1:" in line for line in briefing)
    final = lines[-1]
    assert final.startswith("summarize: done in ")
    assert "2 request(s)" in final


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, 100 columns wide."""

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("no descriptor")  # the width falls back to 80 columns


def test_the_status_clock_runs_while_a_request_is_out():
    """Redraws between two events move the time on, on the status line's own clock
    (injected here, so no real time passes)."""
    now = [100.0]
    screen = _Terminal()
    status = StatusLine(stream=screen, clock=lambda: now[0], tick=3600)
    event = ProgressEvent("briefing", "part 1 of 2", 1.0, 0, 1, "fake", "127.0.0.1:8080")
    status(event)
    for _ in range(3):
        now[0] += 0.5
        status.redraw()
    status.close(summary=False)
    drawn = ANSI.sub("", screen.getvalue())
    clocks = re.findall(r"· ([\d.]+) s ·", drawn)
    assert clocks[:4] == ["1.0", "1.5", "2.0", "2.5"]


@pytest.mark.slow
def test_the_final_line_names_the_endpoint_of_openai_base_url_and_no_openai_price(tmp_path):
    path = tmp_path / "ntv.txt"
    path.write_text(NTV, encoding="utf-8")
    with FakeServer() as server:
        command = [sys.executable, "-m", "summarize", str(path), "--model", "gpt-4o-mini"]
        code, _, lines = on_a_terminal(command, OPENAI_BASE_URL=server.url)
        host = server.url.split("/")[2]
        assert code == 0, lines
        final = lines[-1]
        assert final.endswith(f"gpt-4o-mini @ {host}"), final
        assert "api.openai.com" not in "\n".join(lines)
        assert "cost unknown" in final
        assert "$" not in final
        priced = [*command, "--price-in", "1", "--price-out", "2"]
        code, _, lines = on_a_terminal(priced, OPENAI_BASE_URL=server.url)
    assert code == 0, lines
    assert re.search(r"· \$0\.\d{4} · gpt-4o-mini @ " + re.escape(host), lines[-1])


@pytest.mark.slow
def test_a_terminal_of_zero_columns_gets_a_status_line_80_wide(tmp_path):
    path = tmp_path / "ntv.txt"
    path.write_text(NTV, encoding="utf-8")
    with FakeServer(latency=LATENCY) as server:
        code, _, lines = on_a_terminal(_command(path, server.url), columns=0)
    assert code == 0, lines
    assert stages_of(lines)[:2] == ["reading", "briefing"]
    drawn = [line for line in lines if "briefing" in line]
    assert drawn
    assert all(len(line) <= 80 for line in drawn)


@pytest.mark.slow
def test_a_long_article_shows_its_parts_and_the_merge(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(LONG, encoding="utf-8")
    with FakeServer(latency=LATENCY / 2) as server:
        code, _, lines = on_a_terminal(
            _command(path, server.url, "--context-window", "4096", "--concurrency", "2")
        )
    assert code == 0, lines
    assert stages_of(lines)[0] == "reading"
    assert "merging" in stages_of(lines)
    parts = [line for line in lines if "parts done" in line]
    assert any("(0 of" in line for line in parts)
    assert any("(2 of" in line for line in parts)
    assert lines[-1].startswith("summarize: done in ")


@pytest.mark.slow
def test_piped_output_has_no_control_characters(tmp_path):
    path = ARTICLES / "xi-putin-ntv.txt"
    with FakeServer(latency=0.6) as server:
        finished = subprocess.run(
            _command(path, server.url), env=_env(), capture_output=True, timeout=120
        )
    assert finished.returncode == 0, finished.stderr
    for stream in (finished.stdout, finished.stderr):
        assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", stream), stream[:300]
    assert finished.stderr == b""  # no status, no final line when piped
    assert finished.stdout.startswith(b"xi-putin-ntv\n\nSummary\n")


@pytest.mark.slow
def test_quiet_keeps_the_terminal_silent(tmp_path):
    path = tmp_path / "ntv.txt"
    path.write_text(NTV, encoding="utf-8")
    with FakeServer(latency=0.6) as server:
        code, out, lines = on_a_terminal(_command(path, server.url, "--quiet"))
    assert code == 0
    assert lines == []
    assert "Summary" in out
