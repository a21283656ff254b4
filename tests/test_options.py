"""Options are defined once (summarize.options.Options); everything that lists them
-- the TypedDict, the docstring, the CLI, the README, a batch job -- agrees with it."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from summarize import Summarizer, summarize
from summarize.cli.common import build_parser
from summarize.errors import ConfigurationError
from summarize.options import (
    BATCH_KEPT,
    Options,
    SummarizeOptions,
    default,
    flagged,
    markdown_table,
)

README = Path(__file__).resolve().parent.parent / "README.md"
FIELDS = list(Options.model_fields)


def test_the_typed_dict_has_exactly_the_options():
    assert list(SummarizeOptions.__annotations__) == FIELDS


def test_the_docstring_names_every_option_with_its_default():
    doc = inspect.getdoc(summarize) or ""
    for name in FIELDS:
        assert f"``{name}`` (default " in doc, name
    assert "``concurrency`` (default 8)" in doc


def test_the_readme_table_is_the_options_table():
    assert markdown_table() in README.read_text(encoding="utf-8")


def test_cli_defaults_come_from_the_options():
    args = build_parser().parse_args(["x.txt"])
    for flag, name in (("timeout", "timeout"), ("max_retries", "max_retries"),
                       ("concurrency", "concurrency")):  # fmt: skip
        assert getattr(args, flag) == default(name), name


def test_a_batch_job_keeps_the_options_that_shape_its_prompts_and_read_its_inputs():
    assert set(BATCH_KEPT) == {
        "model", "base_url", "language", "max_retries", "max_reasks", "timeout",
        "context_window", "allow_private_urls", "max_requests", "max_output_tokens",
        "temperature",
        "structured_output", "concurrency", "allow_partial",
        # how submit reads the inputs
        "max_input_bytes", "encoding",
    }  # fmt: skip
    # never a secret, a client object or a process-local resource
    assert not {"api_key", "client", "rate_limiter", "local", "local_model"} & set(BATCH_KEPT)
    assert set(flagged("cache")) <= set(BATCH_KEPT)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_retries": -1}, "max_retries must be a whole number >= 0, not -1"),
        ({"max_reasks": "2"}, "max_reasks must be a whole number >= 0, not '2'"),
        ({"concurrency": 0}, "concurrency must be a whole number >= 1, not 0"),
        ({"concurrency": True}, "concurrency must be a whole number >= 1, not True"),
        ({"max_requests": 0}, "max_requests must be a whole number >= 1, not 0"),
        ({"context_window": 0}, "context_window must be a whole number > 0, not 0"),
        ({"timeout": 0}, "timeout must be a number of seconds > 0, not 0"),
        ({"structured_output": "xml"}, "structured_output must be one of"),
        ({"temperature": "hot"}, "temperature: Input should be a valid number"),
        ({"rate_limiter": object()}, "rate_limiter must be a summarize.RateLimiter"),
        ({"modle": "gpt-4o"}, "unknown option(s) ['modle']: the options are"),
        ({"max_input_bytes": 0}, "max_input_bytes must be a whole number >= 1, not 0"),
        ({"encoding": "klingon-8"}, "encoding must be an encoding Python knows"),
    ],
)
def test_a_bad_option_is_a_configuration_error_naming_it(options, message):
    with pytest.raises(ConfigurationError) as caught:
        Options.of(**options)
    assert message in str(caught.value)
    with pytest.raises(ConfigurationError, match=r"must be|unknown|Input should"):
        Summarizer(**options)


def test_good_options_keep_their_values():
    options = Options.of(model="m", timeout=5, concurrency=2, structured_output="json_object")
    assert (options.model, options.timeout, options.concurrency) == ("m", 5, 2)
    assert options.mode is not None
    assert options.mode.value == "json_object"
    assert Options.of().concurrency == default("concurrency") == 8
