"""The HTTP client against a real companion server."""

from __future__ import annotations

import time
import uuid

import pytest
from conftest import RunningServer

from runlab import Client, RunlabError, ServerUnreachable


def test_projects_can_be_created_and_found_by_name(runlab_server: RunningServer) -> None:
    name = f"client-{uuid.uuid4().hex[:8]}"
    with Client(runlab_server.url, runlab_server.token) as client:
        created = client.create_project(name, "made by the Python client")
        assert created["name"] == name
        assert created["description"] == "made by the Python client"
        assert [p["id"] for p in client.list_projects(name=name)] == [created["id"]]


def test_a_refused_request_raises_runlab_error_with_the_servers_code_and_details(
    runlab_server: RunningServer,
) -> None:
    with Client(runlab_server.url, runlab_server.token) as client, pytest.raises(RunlabError) as raised:
        client.create_project("no spaces allowed!")
    error = raised.value
    assert not isinstance(error, ServerUnreachable)
    assert error.code == "invalid_request"
    assert error.status == 400
    assert error.message
    assert any("name" in problem["path"] for problem in error.details)
    assert "invalid_request" in str(error) and "name" in str(error)


def test_an_invalid_token_raises_unauthorized(runlab_server: RunningServer) -> None:
    with Client(runlab_server.url, "rl_u_not-a-real-token") as client:
        with pytest.raises(RunlabError) as raised:
            client.whoami()
        assert (raised.value.code, raised.value.status) == ("unauthorized", 401)
        assert client.health()["status"] == "ok"  # the health check needs no token


def test_an_unreachable_server_raises_a_connection_error_quickly(closed_port_url: str) -> None:
    started = time.monotonic()
    with Client(closed_port_url, "rl_u_x") as client, pytest.raises(ConnectionError) as raised:
        client.health()
    assert time.monotonic() - started < 3
    assert isinstance(raised.value, ServerUnreachable)
    assert raised.value.code == "unreachable"
    assert closed_port_url in raised.value.message


def test_a_client_needs_a_configured_server() -> None:
    with pytest.raises(ServerUnreachable, match="RUNLAB_URL"):
        Client.from_settings()
