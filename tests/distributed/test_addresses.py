"""Ray cluster addresses (style_plugin/distributed/cluster.py): a malformed one, given with
`--address` or in RAY_ADDRESS, is refused in one line before Ray or the network is asked.
No cluster is started here."""

from __future__ import annotations

import pytest

from style_plugin.distributed.cluster import cluster_address
from style_plugin.errors import StylePluginError
from tests.support import assert_one_line_error, make_photo, run_cli

#: One more character than a host name's part may have (a DNS label: 63).
LONG_LABEL = "a" * 64
FORMS = "auto, HOST:PORT or ray://HOST:PORT"


@pytest.mark.parametrize(
    ("address", "why"),
    [
        (f"{LONG_LABEL}.example.com:6379", "1 to 63 characters"),
        ("head..example.com:6379", "1 to 63 characters"),
        (f"ray://{LONG_LABEL}:10001", "1 to 63 characters"),
        ("localhost:70000", "the port is a number from 1 to 65535"),
        ("localhost:0", "the port is a number from 1 to 65535"),
        ("localhost:６３７９", "the port is a number from 1 to 65535"),  # fullwidth digits
        (":6379", FORMS),
        ("head-node", FORMS),
        ("http://127.0.0.1:8265", FORMS),  # the dashboard's, which `ray job` takes
    ],
)
def test_a_malformed_address_is_refused_in_one_line(address, why):
    with pytest.raises(StylePluginError) as caught:
        cluster_address(address)
    message = str(caught.value)
    assert message.startswith("not a Ray cluster address: ") and why in message
    assert "\n" not in message


@pytest.mark.parametrize("address", ["auto", "10.0.0.5:6379", "[::1]:6379", "ray://head:10001"])
def test_well_formed_addresses_are_left_to_ray(address, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "head-node")  # an address given wins over the variable
    assert cluster_address(address) == address


def test_ray_address_is_read_and_checked_when_none_is_given(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert cluster_address(None) is None  # a Ray of its own on this machine
    monkeypatch.setenv("RAY_ADDRESS", "head:6379")
    assert cluster_address(None) == "head:6379"
    monkeypatch.setenv("RAY_ADDRESS", "head-node")
    with pytest.raises(StylePluginError, match=r"^RAY_ADDRESS: not a Ray cluster address"):
        cluster_address(None)


def test_the_cli_refuses_a_host_name_too_long_in_one_line(style_model, tmp_path, capsys):
    photo = make_photo(tmp_path / "a.png", 32, 24)
    address = f"{LONG_LABEL}:6379"
    args = ("stylize", photo, "-m", style_model, "--engine", "ray", "--address", address)
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, f"not a Ray cluster address: '{address}'", "1 to 63")
    assert not list(tmp_path.glob("a-stylized*"))
