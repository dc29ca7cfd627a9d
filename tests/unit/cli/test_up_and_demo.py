"""`up` builds the launch from flags and env and always stops; the demo's pass/fail rule."""

from pathlib import Path

import pytest

from longwatch.sample import EVENTS
from longwatch.types import Answer, Evidence
from longwatch_cli import cli
from longwatch_cli.demo import EventResult, format_result, is_demo_passed, top_evidence_overlaps
from orchestration.launcher import LaunchError, ServiceDied
from orchestration.signals import Terminated


class FakeLauncher:
    """Records its config; `start` or `supervise` raise what the test scripts."""

    instances: list["FakeLauncher"] = []

    def __init__(self, config, on_start=None, on_supervise=None):
        self.config = config
        self.on_start, self.on_supervise = on_start, on_supervise
        self.is_stopped = False
        self.addresses = {name: config.address(name) for name in ("memory", "perception", "reasoner")}
        self.pids = {"memory": 1, "perception": 2, "reasoner": 3}
        if config.starts_chroma_server:
            self.pids["chroma"] = 4
        FakeLauncher.instances.append(self)

    def log_path(self, name):
        return self.config.data_dir / "logs" / f"{name}.log"

    def start(self):
        if self.on_start:
            raise self.on_start

    def supervise(self):
        if self.on_supervise:
            raise self.on_supervise

    def stop(self):
        self.is_stopped = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


@pytest.fixture
def launcher(monkeypatch):
    def install(on_start=None, on_supervise=None):
        FakeLauncher.instances.clear()

        def make(config):
            return FakeLauncher(config, on_start, on_supervise)

        monkeypatch.setattr("orchestration.launcher.Launcher", make)
        return FakeLauncher.instances

    return install


def test_up_uses_flags_over_env_and_stops_on_ctrl_c(launcher, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LONGWATCH_PROFILE", "tiny")
    monkeypatch.setenv("LONGWATCH_MODEL_CACHE", str(tmp_path / "env-cache"))
    instances = launcher(on_supervise=KeyboardInterrupt())
    argv = ["up", "--data-dir", str(tmp_path / "data"), "--memory-port", "6000"]
    assert cli.main(argv) == 0
    [fake] = instances
    assert fake.config.profile == "tiny"
    assert fake.config.model_cache == tmp_path / "env-cache"
    assert fake.config.data_dir == tmp_path / "data"
    assert dict(fake.config.ports) == {"perception": 50061, "memory": 6000, "reasoner": 50063, "chroma": 50064}
    assert not fake.config.starts_chroma_server  # embedded chromadb unless asked
    assert fake.is_stopped
    out = capsys.readouterr().out
    assert "memory      127.0.0.1:6000" in out and "Ctrl-C" in out
    assert "chroma" not in out


def test_up_with_a_chroma_server_runs_it_on_the_port_given_and_prints_its_url(launcher, tmp_path, capsys):
    instances = launcher(on_supervise=KeyboardInterrupt())
    assert cli.main(["up", "--data-dir", str(tmp_path), "--chroma-server", "--chroma-port", "9000"]) == 0
    [fake] = instances
    assert fake.config.starts_chroma_server and fake.config.ports["chroma"] == 9000
    out = capsys.readouterr().out
    assert "  chroma      127.0.0.1:9000   pid 4 " in out
    assert "LONGWATCH_MEMORY_CHROMA_URL=http://127.0.0.1:9000" in out


def test_a_chroma_port_without_a_chroma_server_is_refused_before_anything_starts(launcher, tmp_path, capsys):
    instances = launcher()
    assert cli.main(["up", "--data-dir", str(tmp_path), "--chroma-port", "9000"]) == 1
    error = capsys.readouterr().err.strip()
    assert error == "error: --chroma-port sets the port of the chroma server: add --chroma-server"
    assert instances == []


@pytest.mark.parametrize("signal_error", [KeyboardInterrupt(), Terminated()])
def test_up_stops_when_interrupted_while_starting(launcher, tmp_path, signal_error):
    instances = launcher(on_start=signal_error)
    assert cli.main(["up", "--data-dir", str(tmp_path)]) == 0
    assert instances[0].is_stopped


def test_up_reports_a_service_that_cannot_start(launcher, tmp_path, capsys):
    instances = launcher(on_start=LaunchError("port 50062 for the memory service is already in use"))
    assert cli.main(["up", "--data-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip().endswith("error: port 50062 for the memory service is already in use")
    assert instances[0].is_stopped


def test_up_reports_a_service_that_keeps_crashing_and_stops_the_rest(launcher, tmp_path, capsys):
    died = ServiceDied("the memory service exited with code -9 (SIGKILL): 5 crashes within 120 s")
    instances = launcher(on_supervise=died)
    assert cli.main(["up", "--data-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip().endswith(f"error: {died}")
    assert instances[0].is_stopped


def test_bad_env_variable_is_an_error_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("LONGWATCH_PROFILE", "huge")
    assert cli.main(["up"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid LONGWATCH_* environment variable") and "Traceback" not in err


def test_make_sample_prints_both_paths(monkeypatch, tmp_path, capsys):
    from longwatch import sample

    written = []

    def fake_make_sample(path: Path, seed: int = 0):
        written.append((path, seed))
        return sample.GroundTruth(path.name, seed, 10, 48.0, 640, 360, sample.EVENTS)

    monkeypatch.setattr(sample, "make_sample", fake_make_sample)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["make-sample", "--out", "s/v.mp4", "--seed", "4"]) == 0
    assert written == [(tmp_path / "s" / "v.mp4", 4)]
    out = capsys.readouterr().out
    assert str(tmp_path / "s" / "v.mp4") in out and str(tmp_path / "s" / "v.json") in out


ALARM = EVENTS[2]  # 21 s to 27 s


@pytest.mark.parametrize(
    ("start_s", "end_s", "is_hit"),
    [
        (21.0, 26.0, True),  # inside
        (19.0, 22.0, True),  # straddles the start
        (26.5, 30.0, True),  # straddles the end
        (15.0, 20.9, False),  # just before
        (27.0, 31.0, False),  # the event ends at 27 s (exclusive)
    ],
)
def test_top_evidence_must_share_a_moment_with_the_event(start_s, end_s, is_hit):
    answer = Answer("7315", (Evidence("demo-cam", start_s, end_s, "ALARM CODE 7315"),), 0.9)
    assert top_evidence_overlaps(answer, ALARM) is is_hit


def test_only_the_top_evidence_counts():
    evidence = (Evidence("demo-cam", 3.0, 8.0, "car"), Evidence("demo-cam", 21.0, 26.0, "ALARM CODE 7315"))
    assert not top_evidence_overlaps(Answer("7315", evidence, 0.5), ALARM)
    assert not top_evidence_overlaps(Answer("no idea"), ALARM)


def test_demo_result_shows_question_answer_times_and_verdict():
    result = EventResult(ALARM, Answer("The code was 7315.", (Evidence("demo-cam", 21.0, 26.0, "x"),), 0.8))
    text = format_result(3, 5, result)
    assert ALARM.question in text and "The code was 7315." in text
    assert "0:21-0:26" in text and "0:21-0:27" in text and "'7315'" in text
    assert text.rstrip().endswith("yes")


@pytest.mark.parametrize(
    ("reply", "says_it"),
    [("7315", True), ("The code was 7315.", True), ("73150", False), ("7316", False), ("", False)],
)
def test_a_text_answer_is_checked_word_for_word(reply, says_it):
    result = EventResult(ALARM, Answer(reply, (Evidence("demo-cam", 21.0, 26.0, "x"),), 0.8))
    assert result.says_expected_text is says_it
    assert f"answer says it: {'yes' if says_it else 'no'}" in format_result(3, 5, result)


def test_a_time_answer_is_judged_by_its_evidence_alone():
    car = EVENTS[0]  # expected answer "0:03-0:09"
    result = EventResult(car, Answer("0:03-0:08 in demo-cam", (Evidence("demo-cam", 3.0, 8.0, "KPL 4721"),), 0.9))
    assert result.is_time_question
    assert "answer says it" not in format_result(1, 5, result)


def test_the_demo_fails_when_a_text_answer_is_wrong_even_with_the_right_evidence():
    inside = (Evidence("demo-cam", 21.0, 26.0, "ALARM CODE 7315"),)
    car = EVENTS[0]
    right_time = EventResult(car, Answer("0:03-0:09", (Evidence("demo-cam", 3.0, 8.0, "KPL 4721"),), 0.9))
    assert is_demo_passed([EventResult(ALARM, Answer("7315", inside, 0.9)), right_time])
    assert not is_demo_passed([EventResult(ALARM, Answer("7316", inside, 0.9)), right_time])
    assert not is_demo_passed([EventResult(ALARM, Answer("7315", (Evidence("demo-cam", 3.0, 8.0, "car"),), 0.9))])
