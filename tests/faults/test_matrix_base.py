"""Self-tests of the fault-matrix base (conftest.py): each helper must be able to fail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from faultlab import (Canary, assert_no_canary, assert_no_leftover_processes, assert_one_line_error,
                      kill_leftovers, leftover_processes, make_canary, start_process, wait_until)

from harness.emulator.control import ControlClient


def test_canaries_are_fresh_and_distinct(canary: Canary) -> None:
    other = make_canary()
    assert canary.password != other.password and canary.code != other.code
    assert len(canary.code) == 7 and canary.code.isdigit() and canary.password.startswith("canary-pw-")


def test_no_canary_finds_a_secret_in_any_nested_file_or_output(tmp_path, canary: Canary) -> None:
    clean = tmp_path / "artifacts" / "test_x[a-b]"
    clean.mkdir(parents=True)
    (clean / "steps.jsonl").write_text('{"step": "typed", "text": "********"}\n')
    (clean / "shot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert assert_no_canary(canary, [tmp_path], ["all quiet"]) == 2

    deep = tmp_path / "tmp" / "harness-mail-x" / "new"
    deep.mkdir(parents=True)
    (deep / "1.eml").write_bytes(b"\x00\xffYour code is " + canary.code.encode() + b"\r\n")
    with pytest.raises(AssertionError, match=r"harness-mail-x/new/1\.eml"):
        assert_no_canary(canary, [tmp_path])
    with pytest.raises(AssertionError, match="captured output #1"):
        assert_no_canary(canary, [], ["fine", f"refused 'input text {canary.password}'"])
    with pytest.raises(AssertionError, match="captured output #0"):
        assert_no_canary([canary.password], [], [b"junit " + canary.password.encode()])


def _orphan_maker(marker_seconds: float, keep_pipes: bool = False) -> list[str]:
    """A child that starts a grandchild (sleeping ``marker_seconds``) and exits, orphaning it."""
    out = "None" if keep_pipes else "subprocess.DEVNULL"
    code = textwrap.dedent(f"""
        import subprocess, sys
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep({marker_seconds})"],
                             stdout={out}, stderr={out})
        print(p.pid, flush=True)
    """)
    return [sys.executable, "-c", code]


def test_leftover_processes_found_by_marker_after_reparenting_and_waited_for() -> None:
    marker = "selftest-" + make_canary().password
    child = start_process(_orphan_maker(60), marker)
    run = child.wait(30)
    assert run.rc == 0 and not run.timed_out and not run.pipes_left_open, run.describe()
    orphan = int(run.stdout.split()[0])
    assert [pid for pid, _ in leftover_processes(marker)] == [orphan]
    with pytest.raises(AssertionError, match=f"saw .*{orphan}"):
        assert_no_leftover_processes(marker, timeout=0.3)
    subprocess.run(["kill", str(orphan)], check=True)
    assert_no_leftover_processes(marker, timeout=10)

    # a process that is on its way out is waited for, not reported
    short = start_process(_orphan_maker(1.0), marker)
    assert short.wait(30).rc == 0
    assert leftover_processes(marker), "the 1 s grandchild should still run"
    assert_no_leftover_processes(marker, timeout=20)


def test_a_descendant_holding_the_output_pipes_is_reported_not_waited_for() -> None:
    marker = "selftest-" + make_canary().password
    run = start_process(_orphan_maker(60, keep_pipes=True), marker).wait(30)
    try:
        assert run.rc == 0 and run.pipes_left_open and run.elapsed < 10, run.describe()
        assert [pid for pid, _ in leftover_processes(marker)] == [int(run.stdout.split()[0])]
    finally:
        kill_leftovers(marker)
    assert_no_leftover_processes(marker, timeout=10)


def test_leftover_processes_finds_children_of_a_pid() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert proc.pid in [pid for pid, _ in leftover_processes(parent=os.getpid())]
    finally:
        proc.kill()
        proc.wait()
    assert proc.pid not in [pid for pid, _ in leftover_processes(parent=os.getpid())]


def test_run_harness_reports_rc_error_and_elapsed(fault) -> None:
    run = fault.run("emulate", "--profile", "nokia-3310", deadline=60)
    assert run.rc == 2 and not run.timed_out and 0 < run.elapsed < 60, run.describe()
    assert assert_one_line_error(run.stderr, "no profile", "nokia-3310").startswith(("harness", "error", "no profile"))
    assert 10 < run.peak_rss_mib < 1000, run.describe()
    fault.assert_no_leftovers()


def test_run_ends_a_command_at_its_deadline_and_kills_its_group(fault) -> None:
    hang = textwrap.dedent("""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print("started", flush=True)
        time.sleep(60)
    """)
    run = start_process([sys.executable, "-c", hang], fault.marker).wait(3)
    assert run.timed_out and run.rc == -signal.SIGKILL and 3 <= run.elapsed < 3 + 8, run.describe()
    assert run.stdout == "started\n"
    assert_no_leftover_processes(fault.marker, timeout=10)


def test_run_measures_peak_memory_and_counts_a_flood_it_does_not_keep(fault) -> None:
    # the big child holds its 200 MiB until told to go, as a long-running command would
    hold = "import sys\nb = b'x' * (200 << 20)\nprint(len(b), flush=True)\nsys.stdin.read()"
    big_process = start_process([sys.executable, "-c", hold], fault.marker, stdin=subprocess.PIPE)
    wait_until(lambda: "209715200" in big_process.stdout_so_far(), 30, "the child to hold 200 MiB",
               big_process.stdout_so_far)
    wait_until(lambda: big_process.peak_rss_so_far_mib() >= 200, 5, "a sample of the held memory",
               big_process.peak_rss_so_far_mib)
    big_process.proc.stdin.close()
    big = big_process.wait(60)
    small = start_process([sys.executable, "-c", "print(1)"], fault.marker).wait(60)
    assert big.rc == 0 and big.peak_rss_mib >= 200, big.describe()
    assert small.rc == 0 and small.peak_rss_mib < 100, small.describe()
    flood = start_process([sys.executable, "-c", "import sys\nfor _ in range(160): sys.stdout.write('y' * 65536)"],
                          fault.marker).wait(60)
    assert flood.rc == 0 and flood.output_bytes == 160 * 65536, flood.describe()
    assert len(flood.stdout) == 4 << 20


@pytest.mark.parametrize("stderr, words, wrong", [
    ("", (), "saw nothing"),
    ("error: a\nb\n", (), "one line"),
    ("Traceback (most recent call last):\n  File x\nValueError: y\n", (), "traceback"),
    ("error: " + "x" * 600, (), "at most 500"),
    ("error: expected CNXN within 5s; saw 3 bytes", ("expected", "AUTH"), "AUTH"),
])
def test_one_line_error_refuses_what_is_not_one_bounded_line(stderr: str, words: tuple, wrong: str) -> None:
    with pytest.raises(AssertionError, match=wrong):
        assert_one_line_error(stderr, *words)


def test_one_line_error_accepts_a_bounded_line_naming_its_words() -> None:
    line = "harness: error: expected CNXN within 5s; saw 3 bytes (b'CNX')\n"
    assert assert_one_line_error(line, "expected cnxn", "saw") == line.strip()


def test_wait_until_says_what_it_expected_and_saw() -> None:
    assert wait_until(lambda: 7, 1, "seven") == 7
    with pytest.raises(AssertionError, match=r"expected the door open within 0.2s; saw 'closed'"):
        wait_until(lambda: False, 0.2, "the door open", lambda: "closed")


def test_emulated_handset_starts_answers_and_stops_leaving_nothing(fault) -> None:
    handset = fault.emulate("--profile", "lumia-520", "--animation-ms", "0", "--boot-time", "0.3")
    assert {"control", "adb", "console", "modem"} <= set(handset.endpoints), handset.endpoints
    with ControlClient.for_endpoints(handset.endpoints) as control:
        assert control.call("ping")["serial"] == handset.endpoints["serial"]
    assert leftover_processes(fault.marker), "the emulator should be found by the marker while it runs"
    run = handset.stop()
    assert run.rc == 0 and not run.timed_out and run.elapsed < 60, run.describe()
    assert 20 < run.peak_rss_mib < 1024, run.describe()
    fault.assert_no_leftovers()


def test_emulated_handset_that_fails_to_start_says_why(fault) -> None:
    with pytest.raises(AssertionError, match="nokia-3310"):
        fault.emulate("--profile", "nokia-3310")
    assert_no_leftover_processes(fault.marker, timeout=10)
