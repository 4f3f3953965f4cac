"""Settings come from the environment; production refuses to run on a placeholder secret."""

import pytest

from app import create_app
from config import config_for


def test_every_documented_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://cq@db.internal/cyberquest")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/2")
    monkeypatch.setenv("ENABLE_SERVER_SIDE_TRACKING", "off")
    monkeypatch.setenv("SERVER_SIDE_TRACKING_ROLLOUT_PERCENT", "25")
    monkeypatch.setenv("TRUSTED_HOSTS", "cyberquest.example.org, .Example.NET,")
    monkeypatch.setenv("FORCE_HTTPS", "yes")
    settings = config_for("development")
    assert settings.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://cq@db.internal/cyberquest"
    assert settings.SECRET_KEY == "s" * 40
    assert settings.RATELIMIT_ENABLED is False
    assert settings.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/2"
    assert settings.ENABLE_SERVER_SIDE_TRACKING is False
    assert settings.SERVER_SIDE_TRACKING_ROLLOUT_PERCENT == 25
    assert settings.TRUSTED_HOSTS == ["cyberquest.example.org", ".example.net"]
    assert settings.FORCE_HTTPS is True


def test_development_defaults_to_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    uri = config_for("development").SQLALCHEMY_DATABASE_URI
    assert uri.startswith("sqlite:///") and uri.endswith("instance/cyberquest.db")


def test_production_keeps_tracking_off_unless_enabled(monkeypatch):
    monkeypatch.delenv("ENABLE_SERVER_SIDE_TRACKING", raising=False)
    monkeypatch.delenv("SERVER_SIDE_TRACKING_ROLLOUT_PERCENT", raising=False)
    settings = config_for("production")
    assert settings.ENABLE_SERVER_SIDE_TRACKING is False
    assert settings.SESSION_COOKIE_SECURE is True


@pytest.mark.parametrize("secret", [None, "", "dev", "short-but-not-a-placeholder"])
def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch, secret):
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError) as raised:
        create_app("production")
    message = str(raised.value)
    assert "SECRET_KEY" in message and "\n" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RATELIMIT_ENABLED", "maybe"),
        ("SERVER_SIDE_TRACKING_ROLLOUT_PERCENT", "half"),
        ("FORCE_HTTPS", "sometimes"),
    ],
)
def test_a_malformed_setting_is_refused_with_its_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        config_for("development")


def test_an_unknown_configuration_name_is_refused():
    with pytest.raises(RuntimeError, match="unknown configuration"):
        config_for("staging-ish")


@pytest.mark.parametrize("name", ["development", "testing"])
def test_local_configurations_answer_to_loopback_names_over_plain_http(monkeypatch, name):
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    monkeypatch.delenv("FORCE_HTTPS", raising=False)
    settings = config_for(name)
    assert settings.TRUSTED_HOSTS == ["localhost", "127.0.0.1"]
    assert settings.FORCE_HTTPS is False


@pytest.mark.parametrize("hosts", [None, "", " , "])
def test_production_refuses_to_start_without_trusted_hosts(monkeypatch, hosts):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    if hosts is None:
        monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    else:
        monkeypatch.setenv("TRUSTED_HOSTS", hosts)
    with pytest.raises(RuntimeError) as raised:
        create_app("production")
    message = str(raised.value)
    assert "TRUSTED_HOSTS" in message and "\n" not in message


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_an_unknown_leaderboard_time_zone_stops_the_app_with_one_line(monkeypatch, zone):
    monkeypatch.setenv("LEADERBOARD_TIMEZONE", zone)
    with pytest.raises(RuntimeError) as raised:
        create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    message = str(raised.value)
    assert "LEADERBOARD_TIMEZONE" in message and "\n" not in message


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ('{"scale_to_reward": "yes"}', "scale_to_reward"),
        ('{"base_point": 5}', "base_point"),
        ('{"difficulty_multipliers": {"hard": -1}}', "hard"),
        ('{"score_divisor": 0}', "score_divisor"),
    ],
)
def test_bad_xp_rules_stop_the_app_at_start_up_with_one_line(monkeypatch, value, named):
    monkeypatch.setenv("XP_RULES", value)
    with pytest.raises(RuntimeError) as raised:
        create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    message = str(raised.value)
    assert message.startswith("XP_RULES") and named in message and "\n" not in message


def test_xp_rules_given_to_create_app_are_checked_too(monkeypatch):
    monkeypatch.delenv("XP_RULES", raising=False)
    with pytest.raises(RuntimeError, match=r"XP_RULES .*no_hint_bonus"):
        create_app("testing", {"XP_RULES": {"no_hint_bonus": -1}})


def test_good_xp_rules_start_the_app(monkeypatch):
    monkeypatch.setenv(
        "XP_RULES", '{"scale_to_reward": false, "difficulty_multipliers": {"hard": 1.5}}'
    )
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["XP_RULES"] == {
        "scale_to_reward": False,
        "difficulty_multipliers": {"hard": 1.5},
    }
