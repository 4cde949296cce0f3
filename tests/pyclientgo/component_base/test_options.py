"""The shared component flags: names, defaults per component, durations, validation."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from pyclientgo.component_base import ComponentOptions, add_component_flags, component_options_from_args
from pyclientgo.component_base.options import parse_duration


def parse(argv: list[str], **defaults: object) -> ComponentOptions:
    parser = argparse.ArgumentParser()
    add_component_flags(parser, defaults=ComponentOptions(name="kube-thing", **defaults))  # type: ignore[arg-type]
    return component_options_from_args(parser.parse_args(argv), name="kube-thing")


def test_defaults_are_the_components_own() -> None:
    opts = parse([], kube_api_qps=50.0, kube_api_burst=100, secure_port=10259, leader_elect=True)
    assert (opts.kube_api_qps, opts.kube_api_burst, opts.secure_port, opts.leader_elect) == (
        50.0,
        100,
        10259,
        True,
    )
    assert opts.leader_elect_resource_namespace == "kube-system"
    assert opts.lease_name == "kube-thing"
    assert (
        opts.leader_elect_lease_duration,
        opts.leader_elect_renew_deadline,
        opts.leader_elect_retry_period,
    ) == (
        15.0,
        10.0,
        2.0,
    )


def test_kubernetes_flag_spellings() -> None:
    opts = parse(
        [
            "--kubeconfig=/k",
            "--master=https://127.0.0.1:1",
            "--kube-api-qps=7.5",
            "--kube-api-burst=9",
            "--bind-address=127.0.0.2",
            "--secure-port=-1",
            "--leader-elect=false",
            "--leader-elect-lease-duration=1m30s",
            "--leader-elect-renew-deadline=500ms",
            "--leader-elect-retry-period=0.25",
            "--leader-elect-resource-namespace=ns",
            "--leader-elect-resource-name=lease",
            "--v=4",
            "--ready-file=/tmp/r",
        ],
        leader_elect=True,
    )
    assert opts.kubeconfig == "/k" and opts.master == "https://127.0.0.1:1"
    assert (opts.kube_api_qps, opts.kube_api_burst) == (7.5, 9)
    assert (opts.bind_address, opts.secure_port) == ("127.0.0.2", -1)
    assert opts.leader_elect is False
    assert (opts.leader_elect_lease_duration, opts.leader_elect_renew_deadline) == (90.0, 0.5)
    assert opts.leader_elect_retry_period == 0.25
    assert (opts.leader_elect_resource_namespace, opts.lease_name) == ("ns", "lease")
    assert opts.verbosity == 4 and opts.ready_file == Path("/tmp/r")
    assert parse(["--leader-elect"]).leader_elect is True
    assert parse(["-v", "2"]).verbosity == 2


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15.0), ("1m30s", 90.0), ("500ms", 0.5), ("2h", 7200.0), ("1.5s", 1.5), ("3", 3.0), ("0", 0.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "10x", "1m-3s", "-1", "ten"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


def test_leader_election_timings_are_checked_as_kube_does() -> None:
    with pytest.raises(ValueError, match=r"leaseDuration must be greater than leaderElection\.renewDeadline"):
        parse(["--leader-elect", "--leader-elect-lease-duration=5s", "--leader-elect-renew-deadline=5s"])
    with pytest.raises(ValueError, match=r"renewDeadline must be greater than leaderElection\.retryPeriod"):
        parse(["--leader-elect", "--leader-elect-renew-deadline=1s", "--leader-elect-retry-period=2s"])
    # not checked without leader election, as kube-controller-manager's validation
    parse(["--leader-elect=false", "--leader-elect-lease-duration=1s"])


def test_bad_port() -> None:
    with pytest.raises(ValueError, match="--secure-port"):
        parse(["--secure-port=70000"])
