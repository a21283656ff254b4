"""Past one machine: the batch mapper, and Ray Data and Spark running it (summarize.ray,
summarize.spark), offline on this machine's 2 cores.

The model is testkit's fake OpenAI-compatible server (testkit/fakeserver.py, scripted,
not recorded), a real HTTP server on the loopback that the engines' worker processes
reach. The articles are the 12 sample articles (fixtures/articles), cut into 40
different texts the way a wire archive holds them: whole, the first paragraphs, the
last ones. A fault is queued on the server by the text of one article.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import threading

import pytest
from testkit import fakemodel
from testkit.fakeserver import FakeServer, Handler, status

from summarize.errors import ConfigurationError
from summarize.many.mapper import OUTPUT_COLUMNS, BriefMapper, sha256, split_limits
from summarize.many.ray_data import BATCHES_PER_ACTOR
from summarize.schema import ArticleSummary
from tests.support import ARTICLES

FAULT = "Filed by the night desk."  # the last line of one article only: its row fails


def articles(count: int = 40) -> list[dict[str, object]]:
    texts: list[str] = []
    for path in sorted(ARTICLES.glob("*.txt")):
        paragraphs = [p for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        half = max(len(paragraphs) // 2, 1)
        texts += ["\n\n".join(paragraphs), "\n\n".join(paragraphs[:half]),
                  "\n\n".join(paragraphs[half:]), "\n\n".join(paragraphs[1:])]  # fmt: skip
    texts = [t for t in dict.fromkeys(texts) if len(t) > 200][:count]
    if len(texts) > 7:
        texts[7] += "\n\n" + FAULT
    return [{"id": f"a{n:02d}", "text": text, "desk": n % 3} for n, text in enumerate(texts)]


def fault_on(marker: str):
    def choose(body: dict[str, object]):
        return status(400, "injected for the test") if marker in json.dumps(body) else None

    return choose


@pytest.fixture
def server():
    with FakeServer() as running:
        yield running


def options(server: FakeServer) -> dict[str, object]:
    # a generous deadline: under load (scripts/stress_tests.sh) one article of 40 went
    # past 60 s while the actors started; a test must not depend on the machine's speed
    return {"base_url": server.url, "api_key": "sk-test", "model": "fake", "timeout": 900.0}


def check_rows(rows: list[dict[str, object]], given: list[dict[str, object]]) -> None:
    """Every row is a grounded brief of its own text, or a typed error."""
    texts = {row["id"]: row["text"] for row in given}
    assert sorted(r["id"] for r in rows) == sorted(texts)
    for row in rows:
        assert set(OUTPUT_COLUMNS) | {"id", "text", "desk"} == set(row)
        assert row["text_sha256"] == sha256(texts[row["id"]])
        if row["error_type"] is None:
            brief = ArticleSummary.model_validate_json(row["brief"])
            assert brief.ungrounded(texts[row["id"]]) == []
            assert row["requests"] >= 1
            assert row["prompt_tokens"] > 0
        else:
            assert row["brief"] is None
            assert row["error"]


def check_one_fault(rows: list[dict[str, object]], given: list[dict[str, object]]) -> None:
    """``check_rows``, and exactly the row with the fault failed, with a typed error."""
    check_rows(rows, given)
    failed = [r for r in rows if r["error_type"]]
    assert [str(r["text"]).endswith(FAULT) for r in failed] == [True], failed
    assert str(failed[0]["error_type"]).endswith("Error")
    assert "injected" in str(failed[0]["error"])


# --- the mapper, alone --------------------------------------------------------------


def test_the_mapper_briefs_a_dict_batch_and_a_bad_row_is_its_own_error(server):
    rows = articles(4)
    mapper = BriefMapper(**options(server), concurrency=4)
    try:
        out = mapper({"id": [r["id"] for r in rows] + [None, "empty"],
                      "text": [r["text"] for r in rows] + ["some text", ""]})  # fmt: skip
    finally:
        mapper.close()
    assert out["error_type"][:4] == [None] * 4
    assert out["error_type"][4:] == ["InputError", "InputError"]
    assert "id must be a non-empty string" in out["error"][4]
    assert "no text, url or path" in out["error"][5]
    assert out["requests"][4:] == [0, 0]
    assert list(out) == ["id", "text", *OUTPUT_COLUMNS]


def test_the_mapper_keeps_arrow_and_pandas_batches_and_their_columns(server):
    pa = pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    rows = articles(2)
    mapper = BriefMapper(**options(server))
    try:
        table = mapper(pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows],
                                 "desk": [1, 2]}))  # fmt: skip
        frame = mapper(pd.DataFrame({"id": [1], "text": [rows[0]["text"]]}))
    finally:
        mapper.close()
    assert table.column_names == ["id", "text", "desk", *OUTPUT_COLUMNS]
    assert [str(table.schema.field(n).type) for n in OUTPUT_COLUMNS] == [
        "string",
        "string",
        "string",
        "int64",
        "int64",
        "int64",
        "double",
        "bool",
        "string",
    ]
    assert table["desk"].to_pylist() == [1, 2]
    assert list(frame.columns) == ["id", "text", *OUTPUT_COLUMNS]
    assert frame["cached"].dtype == bool
    assert frame["requests"].dtype == "int64"


def test_the_mapper_pickles_without_its_worker_and_checks_options_on_the_driver(server):
    mapper = BriefMapper(**options(server))
    mapper.worker()  # built
    try:
        copy = pickle.loads(pickle.dumps(mapper))
        assert copy._worker is None
        assert copy.worker() is mapper.worker()  # one per process and options
    finally:
        mapper.close()
    with pytest.raises(ConfigurationError):
        BriefMapper(base_url=server.url, api_key="sk-test", timeout=-1)


def test_path_rows_are_read_only_under_paths_under(server, tmp_path):
    inside = tmp_path / "inside.txt"
    inside.write_text(articles(1)[0]["text"], encoding="utf-8")
    secret = tmp_path.parent / "secret.txt"
    secret.write_text("not for strangers", encoding="utf-8")
    batch = {"id": ["in", "out"], "path": ["inside.txt", "../secret.txt"]}
    refused = BriefMapper(**options(server))
    allowed = BriefMapper(**options(server), paths_under=tmp_path)
    try:
        none = refused(batch)
        some = allowed(batch)
    finally:
        refused.close()
        allowed.close()
    assert none["error_type"] == ["InputError", "InputError"]
    assert "paths_under=" in none["error"][0]
    assert some["error_type"][0] is None
    assert some["error_type"][1] == "InputError"
    assert "outside paths_under" in some["error"][1]
    assert server.count == some["requests"][0]  # the secret was never sent


def test_rate_limits_are_split_over_the_workers():
    assert split_limits({"requests_per_minute": 60.0, "tokens_per_minute": None, "model": "m"},
                        4) == {"requests_per_minute": 15.0, "tokens_per_minute": None,
                               "model": "m"}  # fmt: skip


def test_the_core_package_imports_neither_engine():
    code = (
        "import sys, summarize, summarize.cli, summarize.many.mapper, summarize.many.live; "
        "print(sorted(m for m in ('ray', 'pyspark', 'pyarrow', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- Ray Data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=200 * 1024 * 1024)  # fmt: skip
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_briefs_40_rows_a_fault_costs_one_and_a_resume_sends_nothing(
    ray_local, server, tmp_path
):
    from summarize.ray import summarize_dataset

    given = articles()
    assert len(given) == 40
    server.choose(fault_on(FAULT))
    ds = ray_local.data.from_items(given)
    out = summarize_dataset(ds, concurrency=2, batch_size=5, **options(server)).materialize()
    check_one_fault(out.take_all(), given)
    schema = out.take_batch(batch_size=2, batch_format="pyarrow").schema
    assert schema.names == ["id", "text", "desk", *OUTPUT_COLUMNS]
    assert [str(schema.field(n).type) for n in OUTPUT_COLUMNS] == [
        "string",
        "string",
        "string",
        "int64",
        "int64",
        "int64",
        "double",
        "bool",
        "string",
    ]
    out.write_json(str(tmp_path / "first"))

    server.choose(lambda body: None)  # the fault is gone: the failed row is tried again
    sent = server.count
    second = summarize_dataset(ds, concurrency=2, batch_size=5, resume_from=tmp_path / "first",
                               **options(server)).take_all()  # fmt: skip
    check_rows(second, given)
    assert [r["error_type"] for r in second] == [None] * 40
    retried = server.count - sent
    assert retried == next(r["requests"] for r in second if r["text"].endswith(FAULT))
    ray_local.data.from_items(second).write_parquet(str(tmp_path / "second"))

    sent = server.count
    third = summarize_dataset(ds, concurrency=2, resume_from=tmp_path / "second",
                              **options(server)).take_all()  # fmt: skip
    assert server.count == sent  # nothing briefed twice
    assert sorted(r["brief"] for r in third) == sorted(r["brief"] for r in second)


HOLD = "Held by the copy desk."  # the last line of the one row kept in flight


@pytest.mark.slow
def test_a_ray_actor_takes_the_next_batch_while_a_row_of_the_last_is_still_out(ray_local, server):
    from summarize.ray import summarize_dataset

    given = articles(8)
    given[0]["text"] = f"{given[0]['text']}\n\n{HOLD}"
    gate, opened = threading.Event(), []

    def hold(body: dict[str, object], handler: Handler) -> None:
        opened.append(gate.wait(300.0))  # False: let go by the timeout, not by company
        handler.send_json(200, fakemodel.completion(body))

    def choose(body: dict[str, object]):
        if HOLD in json.dumps(body):
            return hold
        if server.count >= 4:  # rows of later batches came while the held one was out
            gate.set()
        return None

    server.choose(choose)
    ds = ray_local.data.from_items(given)
    out = summarize_dataset(ds, concurrency=1, batch_size=2, in_flight=2,
                            **options(server)).take_all()  # fmt: skip
    check_rows(out, given)
    # one batch at a time (until 4 December), the held row's batch never ended, so no
    # later row was sent and only the timeout let the run go on
    assert opened[0], "no row of a later batch was sent while one row was held"


# --- Spark --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark_local():
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]").appName("summarize-tests")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )  # fmt: skip
    yield spark
    spark.stop()


@pytest.mark.slow
def test_spark_briefs_40_rows_a_fault_costs_one_and_a_resume_sends_nothing(
    spark_local, server, tmp_path
):
    from summarize.spark import summarize_dataframe

    given = articles()
    server.choose(fault_on(FAULT))
    df = spark_local.createDataFrame(given)
    out = summarize_dataframe(df, concurrency=2, batch_size=5, **options(server))
    types = {f.name: f.dataType.simpleString() for f in out.schema.fields}
    assert [types[n] for n in OUTPUT_COLUMNS] == [
        "string",
        "string",
        "string",
        "bigint",
        "bigint",
        "bigint",
        "double",
        "boolean",
        "string",
    ]
    out.write.json(str(tmp_path / "first"))
    rows = [r.asDict() for r in spark_local.read.schema(out.schema).json(str(tmp_path / "first"))
            .collect()]  # fmt: skip
    check_one_fault(rows, given)

    server.choose(lambda body: None)
    sent = server.count
    second = summarize_dataframe(df, concurrency=2, resume_from=str(tmp_path / "first"),
                                 **options(server))  # fmt: skip
    second.write.parquet(str(tmp_path / "second"))
    rows = [r.asDict() for r in spark_local.read.parquet(str(tmp_path / "second")).collect()]
    check_rows(rows, given)
    assert [r["error_type"] for r in rows] == [None] * 40
    assert server.count - sent == next(r["requests"] for r in rows if r["text"].endswith(FAULT))

    sent = server.count
    third = summarize_dataframe(df, concurrency=2, resume_from=str(tmp_path / "second"),
                                **options(server)).collect()  # fmt: skip
    assert server.count == sent
    assert len(third) == 40


# --- the command line -----------------------------------------------------------------


@pytest.mark.slow
def test_the_cli_runs_a_jsonl_file_on_ray_and_resumes_it(ray_local, server, tmp_path):
    from summarize.cli import main

    given = articles(6)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in given), encoding="utf-8")
    output = tmp_path / "out.jsonl"
    argv = ["many", str(source), "-o", str(output), "--engine", "ray", "--workers", "2",
            "--base-url", server.url, "--model", "fake"]  # fmt: skip
    assert main(argv) == 0
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    check_rows(rows, given)
    sent = server.count
    assert main(argv) == 0
    assert server.count == sent
    assert len(output.read_text(encoding="utf-8").splitlines()) == 6


class _Recorded:
    """A stand-in for a Ray Dataset that keeps what map_batches was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, dict[str, object]]] = []

    def columns(self) -> list[str]:
        return ["id", "text"]

    def map_batches(self, fn: object, **kwargs: object) -> _Recorded:
        self.calls.append((fn, kwargs))
        return self


def test_ray_gets_one_mapper_per_actor_with_its_share_of_the_rate_limit(server):
    from summarize.ray import summarize_dataset

    ds = _Recorded()
    summarize_dataset(ds, concurrency=4, batch_size=3, in_flight=2, requests_per_minute=120.0,
                      tokens_per_minute=40_000.0, **options(server))  # fmt: skip
    ((fn, kwargs),) = ds.calls
    assert fn is BriefMapper
    pool = kwargs["compute"]  # (until 4 December, Ray's deprecated concurrency=4)
    assert pool.min_size == pool.max_size == 4  # actors
    assert pool.max_concurrent_calls_per_actor == BATCHES_PER_ACTOR
    assert pool.enable_true_multi_threading
    assert kwargs["batch_size"] == 3
    assert kwargs["batch_format"] == "pyarrow"
    built = kwargs["fn_constructor_kwargs"]
    assert built["requests_per_minute"] == 30.0  # 120 over 4 actors
    assert built["tokens_per_minute"] == 10_000.0
    assert built["concurrency"] == 2  # of a batch's rows, in flight at once in one actor


def test_a_row_whose_plan_is_over_max_requests_is_an_error_row_not_a_request(server):
    long = "\n\n".join(str(r["text"]) for r in articles(12))  # some 40 parts of 4k tokens
    mapper = BriefMapper(**options(server), context_window=4096, max_requests=3)
    try:
        out = mapper({"id": ["long", "short"], "text": [long, articles(1)[0]["text"]]})
    finally:
        mapper.close()
    assert out["error_type"][0] == "InputError"
    assert "more than max_requests=3" in out["error"][0]
    assert out["requests"][0] == 0
    assert out["error_type"][1] is None
    assert server.count == out["requests"][1]  # only the short one was sent
