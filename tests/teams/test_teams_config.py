"""Teams settings from the environment, and when the route is mounted at all."""

from __future__ import annotations

import pytest
from aiohttp import web

from discretion.adapters.teams import mount as teams_mount
from discretion.adapters.teams.config import TeamsConfig, TeamsConfigError
from discretion.server import Services

APP_ID = "3f1c2a9e-5b7d-4e8f-9a1b-2c3d4e5f6a7b"


def test_defaults_are_the_public_bot_framework():
    config = TeamsConfig.from_env({})
    assert config.openid_metadata_url == (
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    )
    assert config.token_issuer == "https://api.botframework.com"
    assert not config.configured and not config.auth_disabled


def test_botbuilder_names_are_read():
    config = TeamsConfig.from_env(
        {
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_PASSWORD": "secret",
            "MICROSOFT_APP_TENANT_ID": "tenant",
            "MICROSOFT_APP_TYPE": "singletenant",
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": "https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": "https://api.botframework.us",
        }
    )
    assert config.app_type == "SingleTenant"
    assert config.token_issuer == "https://api.botframework.us"
    conf = config.botbuilder_configuration()
    assert conf.APP_ID == APP_ID and conf.APP_TENANTID == "tenant"
    assert conf.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == "https://api.botframework.us"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MICROSOFT_APP_ID": "not-a-guid", "MICROSOFT_APP_PASSWORD": "x"}, "MICROSOFT_APP_ID"),
        ({"MICROSOFT_APP_ID": APP_ID}, "MICROSOFT_APP_PASSWORD"),
        ({"MICROSOFT_APP_TYPE": "Sometimes"}, "MICROSOFT_APP_TYPE"),
        (
            {
                "MICROSOFT_APP_ID": APP_ID,
                "MICROSOFT_APP_PASSWORD": "x",
                "MICROSOFT_APP_TYPE": "SingleTenant",
            },
            "MICROSOFT_APP_TENANT_ID",
        ),
        (
            {"TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": "http://keys.example.net/meta"},
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL",
        ),
    ],
)
def test_bad_settings_name_the_variable(env, variable):
    with pytest.raises(TeamsConfigError, match=variable):
        TeamsConfig.from_env(env)


def test_not_mounted_without_credentials(settings, engine, monkeypatch):
    for name in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "DISCRETION_TEAMS_LOCAL_DEV"):
        monkeypatch.delenv(name, raising=False)
    app = web.Application()
    assert teams_mount.mount(app, Services(settings=settings, engine=engine)) is None
    assert not [
        r for r in app.router.routes() if r.resource and r.resource.canonical == "/api/messages"
    ]


def test_local_dev_switch_mounts_and_warns_loudly(settings, engine, monkeypatch, capsys):
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    monkeypatch.setenv("DISCRETION_TEAMS_LOCAL_DEV", "1")
    app = web.Application()
    said = teams_mount.mount(app, Services(settings=settings, engine=engine))
    assert said is not None and "UNAUTHENTICATED" in said
    assert "UNAUTHENTICATED" in capsys.readouterr().err


def test_app_id_wins_over_the_local_dev_switch():
    config = TeamsConfig.from_env(
        {
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_PASSWORD": "x",
            "DISCRETION_TEAMS_LOCAL_DEV": "1",
        }
    )
    assert config.configured and not config.auth_disabled


def test_half_configured_server_refuses_to_start(settings, engine, monkeypatch):
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    monkeypatch.delenv("MICROSOFT_APP_PASSWORD", raising=False)
    with pytest.raises(SystemExit, match="MICROSOFT_APP_PASSWORD"):
        teams_mount.mount(web.Application(), Services(settings=settings, engine=engine))
