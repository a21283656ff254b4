"""Which endpoint a run names, and what it costs: OpenAI's list prices for OpenAI's own
API only; any other endpoint has no price unless the caller gives one."""

from __future__ import annotations

import pytest
from testkit.fakeserver import FakeServer

from summarize import Summarizer, summarize
from summarize.errors import ConfigurationError
from summarize.model.pricing import PRICES, price_of
from summarize.schema import Usage
from tests.support import NTV

USAGE = Usage(prompt_tokens=1_000_000, completion_tokens=100_000, requests=1)


def test_openais_own_api_gets_its_list_price():
    summarizer = Summarizer(model="gpt-4o-mini", api_key="sk-test")
    assert summarizer.endpoint.label() == "api.openai.com"
    assert summarizer.cost(USAGE) == pytest.approx(0.15 + 0.06)
    assert summarizer.cost(USAGE) == price_of("gpt-4o-mini", USAGE)


@pytest.mark.parametrize("where", ["argument", "environment"])
def test_any_other_endpoint_has_no_price_and_is_named_as_it_is(where, monkeypatch):
    url = "http://127.0.0.1:8080/v1"
    options = {"base_url": url} if where == "argument" else {}
    if where == "environment":
        monkeypatch.setenv("OPENAI_BASE_URL", url)
    summarizer = Summarizer(model="gpt-4o-mini", **options)
    assert summarizer.endpoint.label() == "127.0.0.1:8080"
    assert not summarizer.endpoint.is_openai
    assert summarizer.cost(USAGE) is None  # OpenAI's price is not this server's
    assert summarizer.cost(USAGE, PRICES) == price_of("gpt-4o-mini", USAGE)  # a table given
    priced = Summarizer(model="gpt-4o-mini", price_in=2.0, price_out=8.0, **options)
    assert priced.cost(USAGE) == pytest.approx(2.0 + 0.8)


def test_a_key_in_the_base_url_is_never_in_its_name():
    summarizer = Summarizer(model="m", base_url="http://user:sk-secret-123@10.0.0.5:8000/v1")
    assert summarizer.endpoint.label() == "10.0.0.5:8000"
    assert "sk-secret" not in summarizer.endpoint.describe()
    assert "sk-secret" not in repr(summarizer)


def test_prices_come_in_pairs_and_are_numbers():
    with pytest.raises(ConfigurationError, match="both price_in= and price_out="):
        Summarizer(model="m", base_url="http://127.0.0.1:1/v1", price_in=1.0)
    with pytest.raises(ConfigurationError, match="price_out must be USD per million"):
        Summarizer(model="m", price_in=1.0, price_out=-1)


def test_the_brief_and_the_done_event_name_the_endpoint_of_openai_base_url(monkeypatch):
    events = []
    with FakeServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        brief = summarize(NTV, model="gpt-4o-mini", api_key="k", on_progress=events.append)
    host = server.url.split("/")[2]
    assert brief.meta.endpoint == host
    done = events[-1]
    assert done.stage == "done"
    assert done.endpoint == host
    assert done.cost_usd is None
