import re
from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc import config
from feedsvc.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> config.Settings:
    path = tmp_path / "feedsvc.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path, environ=environ or {})


def test_sample_config_loads_with_its_local_snapshot(tmp_path: Path) -> None:
    settings = config.load(ROOT / "config" / "feedsvc.toml", environ={})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.refresh_token is None
    (source,) = settings.sources
    assert source.is_local and Path(source.url).is_file()
    assert source.timezone == "Asia/Shanghai" and source.interval == timedelta(minutes=30)


def test_defaults_and_token_from_the_environment(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[service]\nrefresh_token_env = "TOK"\n[[sources]]\nname = "a"\nurl = "https://example.org/"\n',
        {"TOK": "s3cret"},
    )
    assert settings.refresh_token == "s3cret"
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'feedsvc.db'}"
    (source,) = settings.sources
    assert (source.layout, source.interval, source.timezone, source.title) == ("auto", timedelta(hours=1), "UTC", "a")


def test_relative_file_urls_are_resolved_against_the_config_file(tmp_path: Path) -> None:
    settings = load(tmp_path, '[[sources]]\nname = "a"\nurl = "pages/a.txt"\n')
    assert settings.sources[0].url == str(tmp_path / "pages" / "a.txt")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[sources]]\nname = "kexue"\nurl = "x"\ntimezone = "Asia/Shangai"\n', "sources.kexue.timezone: unknown zone"),
        ('[[sources]]\nname = "kexue"\nurl = "x"\nlayout = "fancy"\n', "sources.kexue.layout: unknown layout"),
        ('[[sources]]\nname = "kexue"\nurl = "x"\ninterval = "often"\n', "sources.kexue.interval: expected a duration"),
        ('[[sources]]\nname = "kexue"\nurl = "x"\ninterval = "10s"\n', "sources.kexue.interval: at least 1m"),
        ('[[sources]]\nname = "kexue"\n', "sources.kexue.url: missing"),
        ('[[sources]]\nname = "kexue"\nurl = "ftp://x/"\n', "sources.kexue.url: only http(s)"),
        ('[[sources]]\nname = "Bad Name"\nurl = "x"\n', "sources[0].name"),
        ('[[sources]]\nname = "a"\nurl = "x"\n[[sources]]\nname = "a"\nurl = "y"\n', "sources.a: name used twice"),
        ('[[sources]]\nname = "a"\nurl = "x"\ncolour = "red"\n', "sources.a.colour: unknown setting"),
        ('[service]\nbind = "nowhere"\n', "service.bind: expected HOST:PORT"),
        ('[service]\nthreads = "many"\n', "service.threads: expected int"),
        ('[service]\nserver = "gunicorn"\n', "service.server: expected one of waitress, granian, got 'gunicorn'"),
        ('[service]\ndatabase_url = "mysql://x"\n', "service.database_url"),
        ("[service\n", "not valid TOML"),
    ],
)
def test_each_bad_setting_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(tmp_path, text)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        config.load(tmp_path / "absent.toml")


# --- [sources.selectors] ---------------------------------------------------------------------------


def _with_selectors(tmp_path, selectors: str):  # type: ignore[no-untyped-def]
    from feedsvc import config as config_module

    path = tmp_path / "feedsvc.toml"
    path.write_text(f'[[sources]]\nname = "blog"\nurl = "https://blog.example/"\n{selectors}\n', encoding="utf-8")
    return config_module.load(path, environ={})


def test_selectors_table_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = _with_selectors(tmp_path, '[sources.selectors]\nitem = "article.post"\ntitle = "h2 a"')
    (source,) = settings.sources
    assert source.selectors is not None
    assert (source.selectors.item, source.selectors.title, source.selectors.date) == ("article.post", "h2 a", None)


@pytest.mark.parametrize(
    ("selectors", "message"),
    [
        ('[sources.selectors]\ntitle = "h2"', r"sources\.blog\.selectors\.item: missing"),
        ('[sources.selectors]\nitem = "article["', r"sources\.blog\.selectors\.item: not a CSS selector"),
        ('[sources.selectors]\nitem = "a"\nheadline = "h2"', r"sources\.blog\.selectors\.headline: unknown setting"),
        ('[sources.selectors]\nitem = 3', r"sources\.blog\.selectors\.item: expected str"),
        ('layout = "selectors"', r"sources\.blog\.layout: 'selectors' needs"),
    ],
)
def test_bad_selectors_name_the_key(tmp_path, selectors: str, message: str) -> None:  # type: ignore[no-untyped-def]
    from feedsvc.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        _with_selectors(tmp_path, selectors)


# -- [service] scheduling and politeness: defaults, parsing, errors naming the key --


def load_service(tmp_path: Path, service: str) -> config.Settings:
    path = tmp_path / "feedsvc.toml"
    path.write_text(f"[service]\n{service}\n", encoding="utf-8")
    return config.load(path, environ={})


def test_defaults(tmp_path: Path) -> None:
    settings = load_service(tmp_path, "")
    assert settings.workers == 4
    assert settings.host_gap == timedelta(seconds=1)
    assert settings.max_backoff == timedelta(hours=6)
    assert settings.manual_refresh_gap == timedelta(seconds=10)
    assert settings.shutdown_grace == timedelta(seconds=30)


def test_values_are_read(tmp_path: Path) -> None:
    settings = load_service(
        tmp_path,
        'workers = 2\nhost_gap = "5s"\nmax_backoff = "1d"\nmanual_refresh_gap = "1m"\nshutdown_grace = "0s"',
    )
    assert (settings.workers, settings.host_gap, settings.max_backoff) == (2, timedelta(seconds=5), timedelta(days=1))
    assert (settings.manual_refresh_gap, settings.shutdown_grace) == (timedelta(minutes=1), timedelta(0))


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("workers = 0", "service.workers"),
        ('host_gap = "soon"', "service.host_gap"),
        ('max_backoff = "10s"', "service.max_backoff"),
        ("manual_refresh_gap = 10", "service.manual_refresh_gap"),
    ],
)
def test_bad_scheduling_values_name_the_key(tmp_path: Path, line: str, key: str) -> None:
    with pytest.raises(ConfigError, match=f"^{key}: "):
        load_service(tmp_path, line)


# -- service.lease and service.min_interval: several instances sharing the work --

SHARED_SOURCE = '[[sources]]\nname = "a"\nurl = "https://example.org/"\n'


def test_the_lease_defaults_to_three_timeouts_and_a_minute(tmp_path: Path) -> None:
    (source,) = load(tmp_path, SHARED_SOURCE + "timeout = 5\n").sources
    assert source.lease is None
    assert source.lease_length == timedelta(seconds=75)


def test_a_service_lease_applies_to_every_source(tmp_path: Path) -> None:
    settings = load(tmp_path, '[service]\nlease = "90s"\n' + SHARED_SOURCE + SHARED_SOURCE.replace('"a"', '"b"'))
    assert [s.lease_length for s in settings.sources] == [timedelta(seconds=90)] * 2


def test_min_interval_lowers_the_shortest_interval(tmp_path: Path) -> None:
    (source,) = load(tmp_path, '[service]\nmin_interval = "1s"\n' + SHARED_SOURCE + 'interval = "3s"\n').sources
    assert source.interval == timedelta(seconds=3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[service]\nlease = "0s"\n' + SHARED_SOURCE, "service.lease: must be positive"),
        ("[service]\nlease = 30\n" + SHARED_SOURCE, "service.lease: expected str"),
        ('[service]\nmin_interval = "soon"\n' + SHARED_SOURCE, "service.min_interval: expected a duration"),
        (
            '[service]\nmin_interval = "10s"\n' + SHARED_SOURCE + 'interval = "5s"\n',
            r"sources.a.interval: at least 10s",
        ),
    ],
)
def test_bad_lease_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)


# -- publishing: the WebSub hub, the static publish directory, the reserved name 'all' --

PUBLISHED_SOURCE = '[[sources]]\nname = "blog"\nurl = "https://blog.example/"\n'


def test_hub_and_publish_dir(tmp_path: Path) -> None:
    settings = load(tmp_path, f'[service]\nhub = "https://hub.example/"\npublish_dir = "public"\n{PUBLISHED_SOURCE}')
    assert settings.hub == "https://hub.example/"
    assert settings.publish_dir == tmp_path / "public"  # relative to the config file


def test_both_are_off_by_default(tmp_path: Path) -> None:
    settings = load(tmp_path, PUBLISHED_SOURCE)
    assert settings.hub is None and settings.publish_dir is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[service]\nhub = "ftp://hub.example/"\n', "service.hub: expected an http(s) URL"),
        ("[service]\nhub = 3\n", "service.hub: expected str"),
        ("[service]\npublish_dir = true\n", "service.publish_dir: expected str"),
        ('[[sources]]\nname = "all"\nurl = "https://x.example/"\n', "sources.all: the name 'all' is reserved"),
    ],
)
def test_bad_publishing_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(tmp_path, text)


# -- values out of range are refused at start-up, naming the setting --


def load_ranged(
    tmp_path: Path, source: str = "", service: str = "", environ: dict[str, str] | None = None
) -> config.Settings:
    path = tmp_path / "feedsvc.toml"
    path.write_text(
        f'[service]\n{service}\n[[sources]]\nname = "blog"\nurl = "https://blog.example/"\n{source}\n', encoding="utf-8"
    )
    return config.load(path, environ or {})


@pytest.mark.parametrize(
    ("line", "setting"),
    [
        ('interval = "99999999999d"', "sources.blog.interval"),
        ('interval = "3651d"', "sources.blog.interval"),
        ("timeout = nan", "sources.blog.timeout"),
        ("timeout = inf", "sources.blog.timeout"),
        ("timeout = 1e308", "sources.blog.timeout"),
        ("timeout = -inf", "sources.blog.timeout"),
        ("max_bytes = 99999999999999", "sources.blog.max_bytes"),
        ("keep = 99999999999", "sources.blog.keep"),
    ],
)
def test_source_values_out_of_range_name_the_setting(tmp_path: Path, line: str, setting: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{setting}: "):
        load_ranged(tmp_path, line)


@pytest.mark.parametrize(
    "url", ["http://", "https://", "http://:80/", "http://user@/", "http://host:99999/", "http://host:port/"]
)
def test_a_url_needs_a_host_and_a_valid_port(tmp_path: Path, url: str) -> None:
    path = tmp_path / "feedsvc.toml"
    path.write_text(f'[[sources]]\nname = "blog"\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^sources\.blog\.url: "):
        config.load(path, {})


@pytest.mark.parametrize("line", ['host_gap = "99999999999999999999d"', 'max_backoff = "999999d"'])
def test_service_durations_are_bounded(tmp_path: Path, line: str) -> None:
    with pytest.raises(ConfigError, match=rf"^service\.{line.split()[0]}: at most"):
        load_ranged(tmp_path, service=line)


def test_the_refresh_token_is_trimmed(tmp_path: Path) -> None:
    settings = load_ranged(tmp_path, environ={"FEEDSVC_REFRESH_TOKEN": "  s3cret\n"})
    assert settings.refresh_token == "s3cret"
    assert load_ranged(tmp_path, environ={"FEEDSVC_REFRESH_TOKEN": " \n"}).refresh_token is None


def test_the_outbound_and_local_file_settings(tmp_path: Path) -> None:
    settings = load_ranged(tmp_path, "secret = true", 'allow_private_addresses = true\nlocal_root = "pages"')
    (source,) = settings.sources
    assert source.secret and source.allow_private_addresses and settings.allow_private_addresses
    assert source.local_root == settings.local_root == (tmp_path / "pages").resolve()
    assert source.public_url is None


# -- filters: include and exclude --


def test_include_and_exclude_are_read_and_checked(tmp_path: Path) -> None:
    source = '[[sources]]\nname = "blog"\nurl = "https://blog.example/"\n'
    settings = load(tmp_path, source + 'include = ["ml", "author:^Jane"]\nexclude = "sponsored"\n')
    (blog,) = settings.sources
    assert (blog.include, blog.exclude) == (("ml", "author:^Jane"), ("sponsored",))
    with pytest.raises(ConfigError, match=r"^sources\.blog\.exclude\[1\]: not a valid regular expression"):
        load(tmp_path, source + 'exclude = ["fine", "(broken"]\n')
    with pytest.raises(ConfigError, match=r"^sources\.blog\.include: expected a list of regular expressions"):
        load(tmp_path, source + "include = [1, 2]\n")


def test_fetch_defaults_to_http_and_browser_takes_a_wait_for_selector(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[service]\nbrowser_pages = 3\n[[sources]]\nname = "a"\nurl = "https://a.example/"\n'
        '[[sources]]\nname = "b"\nurl = "https://b.example/"\nfetch = "browser"\nwait_for = "ul.news li"\n',
    )
    plain, rendered = settings.sources
    assert (plain.fetch, plain.wait_for) == ("http", None)
    assert (rendered.fetch, rendered.wait_for) == ("browser", "ul.news li")
    assert settings.browser_pages == 3
    assert load(tmp_path, "").browser_pages == 2


@pytest.mark.parametrize(
    ("source", "service", "message"),
    [
        ('fetch = "chrome"', "", "sources.a.fetch: expected one of 'http', 'browser', got 'chrome'"),
        ('wait_for = "ul li"', "", 'sources.a.wait_for: only used with fetch = "browser"'),
        ('fetch = "browser"\nwait_for = "ul["', "", "sources.a.wait_for: not a CSS selector"),
        ('fetch = "browser"\nwait_for = 3', "", "sources.a.wait_for: expected str, got 3"),
        ("", "browser_pages = 0", "service.browser_pages: expected 1..16, got 0"),
        ("", 'browser_pages = "2"', "service.browser_pages: expected int"),
    ],
)
def test_bad_fetch_settings_name_the_key(tmp_path: Path, source: str, service: str, message: str) -> None:
    text = f'[service]\n{service}\n[[sources]]\nname = "a"\nurl = "https://a.example/"\n{source}\n'
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert message in str(caught.value)


def test_a_local_file_cannot_be_rendered_in_the_browser(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(ConfigError, match=r'sources\.a\.fetch: "browser" needs an http\(s\) url'):
        load(tmp_path, '[[sources]]\nname = "a"\nurl = "page.html"\nfetch = "browser"\n')
def test_full_text_is_off_by_default_and_read_per_source(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[[sources]]\nname = "a"\nurl = "https://a.example/"\n'
        '[[sources]]\nname = "b"\nurl = "https://b.example/"\nfull_text = true\nfull_text_per_refresh = 3\n',
    )
    plain, full = settings.sources
    assert (plain.full_text, plain.full_text_per_refresh) == (False, 10)
    assert (full.full_text, full.full_text_per_refresh) == (True, 3)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('url = "https://a.example/"\nfull_text = "yes"', "sources.a.full_text: expected true or false"),
        ('url = "https://a.example/"\nfull_text_per_refresh = -1', "full_text_per_refresh: expected 0..1000"),
        ('url = "https://a.example/"\nfull_text_per_refresh = 1001', "full_text_per_refresh: expected 0..1000"),
        ('url = "https://a.example/"\nfull_text_per_refresh = 2.5', "sources.a.full_text_per_refresh: expected int"),
        ('url = "page.html"\nfull_text = true', "sources.a.full_text: needs an http(s) url"),
    ],
)
def test_bad_full_text_settings_name_the_key(tmp_path: Path, lines: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(tmp_path, f'[[sources]]\nname = "a"\n{lines}\n')
