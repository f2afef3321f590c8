"""Secrets never print; artifacts are written as they happen and come out redacted."""

from __future__ import annotations

import json
import logging
import pickle

import numpy as np
import pytest

from harness.accounts import load_accounts, load_secrets_file
from harness.artifacts import Artifacts
from harness.errors import ConfigError
from harness.secrets import MASK, RedactingFilter, Secret, SecretText, redact


def test_secret_masks_itself_everywhere() -> None:
    s = Secret("hunter2-canary")
    assert "hunter2" not in repr(s) and "hunter2" not in str(s) and "hunter2" not in f"{s}"
    assert s.reveal() == "hunter2-canary"
    assert redact("typed hunter2-canary into the field") == f"typed {MASK} into the field"
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_typed_plain_text_is_masked_where_it_travels_but_not_hunted_elsewhere() -> None:
    """An account address typed into a field is masked in the service that types it, yet other messages
    (such as 'the code goes to +1555... on file for carol@example.com') still name the account."""
    typed = Secret("carol-typed@example.com", registered=False)
    service = SecretText("shell,v2,raw:input text ", typed.map(str.upper))
    assert "carol-typed" not in str(service).lower() and MASK in str(service)
    assert service.reveal().endswith("CAROL-TYPED@EXAMPLE.COM")
    assert redact("on file for carol-typed@example.com") == "on file for carol-typed@example.com"
    password = Secret("typed-password-canary").map(str.upper)
    assert redact("saw TYPED-PASSWORD-CANARY and typed-password-canary") == f"saw {MASK} and {MASK}"


def test_logging_filter_redacts_registered_secrets(caplog) -> None:
    Secret("s3cret-in-a-log")
    logger = logging.getLogger("harness.test")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("password was %s", "s3cret-in-a-log")
    assert "s3cret-in-a-log" not in caplog.text and MASK in caplog.text


def test_artifacts_steps_are_appended_redacted_and_screens_saved(tmp_path) -> None:
    Secret("step-secret-42")
    art = Artifacts(tmp_path, "tests/x.py::test_y[param]")
    assert art.dir.parent == tmp_path and "/" not in art.dir.name
    art.record("type", value="step-secret-42")
    art.record("step", screen="start")
    lines = (art.dir / "steps.jsonl").read_text().splitlines()
    assert len(lines) == 2 and "step-secret-42" not in lines[0]
    assert json.loads(lines[1])["screen"] == "start"
    path = art.save_screenshot(np.zeros((20, 10, 3), np.uint8), "start screen")
    assert path.exists() and path.name == "001-start_screen.png" and art.last_screenshot == path


def test_secrets_file_and_environment(tmp_path) -> None:
    f = tmp_path / "secrets.toml"
    f.write_text('[account.primary]\naddress = "a@b.com"\npassword = "pw-from-file"\n')
    accounts = load_accounts(f, environ={"HARNESS_ACCOUNT_SPARE": "c@d.com", "HARNESS_PASSWORD_SPARE": "pw-env"})
    assert accounts["primary"].address == "a@b.com" and accounts["primary"].password.reveal() == "pw-from-file"
    assert accounts["spare"].password.reveal() == "pw-env"
    with pytest.raises(ConfigError, match="HARNESS_PASSWORD_X"):
        load_accounts(None, environ={"HARNESS_ACCOUNT_X": "x@y.com"})
    f.write_text('[account.primary]\naddress = "a@b.com"\n')
    with pytest.raises(ConfigError, match=r"account\.primary\.password"):
        load_secrets_file(f)


def test_artifacts_never_append_to_or_overwrite_a_file_they_did_not_create(tmp_path) -> None:
    """A folder that already holds a run's files (adopted by ``Artifacts(folder)``) keeps them byte for byte."""
    old = {"steps.jsonl": b'{"kind": "old"}\n', "001-start.png": b"old png", "console.log": b"old console\n"}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    art = Artifacts(tmp_path)
    art.record("step", screen="new")
    shot = art.save_screenshot(np.zeros((4, 4, 3), np.uint8), "start")
    log = art.claim("console.log")
    log.write_text("new console\n")
    art.append_text("console.log", "more\n")
    assert {n: (tmp_path / n).read_bytes() for n in old} == old
    assert shot.name == "001-start.2.png" and log.name == "console.2.log"
    assert (tmp_path / "console.2.log").read_text() == "new console\nmore\n"
    assert json.loads((tmp_path / "steps.2.jsonl").read_text())["screen"] == "new"


def test_two_artifacts_of_one_long_name_get_two_readable_folders(tmp_path) -> None:
    name = "tests/faults/test_x.py::test_" + "a_very_long_descriptive_name_" * 4 + "[lumia-930-dark-variant-{}]"
    first, second = Artifacts(tmp_path, name.format(1)), Artifacts(tmp_path, name.format(2))
    again = Artifacts(tmp_path, name.format(1))
    assert len({first.dir, second.dir, again.dir}) == 3
    assert "variant-1" in first.dir.name and "variant-2" in second.dir.name
    assert again.dir.name == first.dir.name + ".2"
