"""The newcomer's demo builds a real archive from synthesized speech."""

from __future__ import annotations

from tests.helpers import run_parole, start_server


def test_demo_builds_a_searchable_archive(fresh_data):
    result = run_parole(fresh_data, "demo", "--no-serve")
    assert result.returncode == 0, result.stderr
    assert "Épisode enregistré" in result.stderr
    server = start_server(fresh_data)
    try:
        import httpx

        home = httpx.get(server.base_url + "/")
        assert "La participation citoyenne au quotidien" in home.text
        found = httpx.get(server.base_url + "/api/search", params={"q": "participation"}).json()
        assert found["episode_count"] == 1
    finally:
        server.stop()
    again = run_parole(fresh_data, "demo", "--no-serve")
    assert again.returncode == 0 and "déjà dans l'archive" in again.stderr
