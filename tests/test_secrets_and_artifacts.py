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
from harness.secrets import MASK, RedactingFilter, Secret, redact


def test_secret_masks_itself_everywhere() -> None:
    s = Secret("hunter2-canary")
    assert "hunter2" not in repr(s) and "hunter2" not in str(s) and "hunter2" not in f"{s}"
    assert s.reveal() == "hunter2-canary"
    assert redact("typed hunter2-canary into the field") == f"typed {MASK} into the field"
    with pytest.raises(TypeError):
        pickle.dumps(s)


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
