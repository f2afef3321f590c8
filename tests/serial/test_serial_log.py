"""The serial log writer: whatever line reaches it, no code or secret reaches the file, and the file stays bounded."""

from __future__ import annotations

from harness.secrets import Secret
from harness.serial_log import SerialLog


def test_codes_and_secrets_are_masked_in_every_kind_of_line(tmp_path) -> None:
    password = Secret("canary-pw-5f3a9e")
    log = SerialLog(tmp_path / "modem.log")
    # a code no other test uses: a Secret registered by another test in this worker would be [REDACTED] instead
    log.write("<< stray", "Use 5829301 as Microsoft account security code")   # a body whose header was garbled
    log.write("<<", "Use 58\x0729301 as \x9dcode")                              # noise inside the code
    log.write("<<", f"typed {password.reveal()} by mistake")
    log.write(">>", "AT+CMGD=3")
    log.close()
    raw = (tmp_path / "modem.log").read_bytes()
    text = raw.decode("utf-8")  # strict: the declared encoding
    for leaked in ("5829301", "29301", "canary-pw-5f3a9e"):
        assert leaked not in text, text
    lines = text.splitlines()
    assert len(lines) == 4 and lines[3].endswith(">> AT+CMGD=3")
    assert "Use ####### as" in lines[0] and "\\x07" in lines[1] and "\x07" not in text


def test_the_log_is_bounded_and_says_what_it_left_out(tmp_path) -> None:
    log = SerialLog(tmp_path / "console.log", max_bytes=4096)
    log.write("x" * 100_000)  # one flooded line is quoted short
    for i in range(1000):
        log.write(f"line {i}")
    log.close()
    text = (tmp_path / "console.log").read_text(encoding="utf-8")
    assert len(text) < 4096 + 200
    assert "more characters" in text.splitlines()[0]
    assert text.splitlines()[-1].endswith("more line(s) left out ---")


def test_a_pdu_is_masked_whole_and_the_line_around_it_stays_readable(tmp_path) -> None:
    # "hellohello" from +27838890001 packed as GSM 7-bit: no run of digits in it gives the text away
    pdu = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
    log = SerialLog(tmp_path / "modem.log", pdus=True)
    log.write("<< stray", pdu)                       # a PDU whose header line was lost
    log.write("<<", "+CMGL: 12,1,,28")             # a header line: short numbers stay readable
    log.write("<<", f"+CMT: ,28 {pdu.lower()}")     # a PDU inside a longer line
    log.write("<<", f"+CMGR: 1,,28\r{pdu[:-1]}")     # a header glued to a PDU missing a digit (noise)
    log.close()
    lines = (tmp_path / "modem.log").read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith("<< stray <pdu 36 bytes, masked>")
    assert lines[1].endswith("<< +CMGL: 12,1,,28")
    assert lines[2].endswith("<< +CMT: ,28 <pdu 36 bytes, masked>")
    assert lines[3].endswith("<< +CMGR: 1,,28\\r<pdu 35 bytes, masked>")
    assert "E8329B" not in "".join(lines).upper() and "#" not in "".join(lines)
