"""The command line, over a mock transport (hand-built responses) and real files."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from summarize.cli import main
from tests.support import NTV, Recorder, error, good_answer, ok


@pytest.mark.slow
def test_help_is_fast_and_does_not_import_openai():
    code = (
        "import sys, time; t=time.perf_counter(); from summarize.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('openai' in sys.modules, time.perf_counter()-t, file=sys.stderr)"
    )
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0
    assert "usage: summarize" in out.stdout
    imported, _ = out.stderr.split()
    assert imported == "False"
    assert time.perf_counter() - started < 3  # generous: interpreter start-up included


def test_json_output_is_a_grounded_article_summary(
    ntv_path, patch_build_client, capsys, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    patch_build_client(Recorder([ok(good_answer())]))
    assert main([str(ntv_path), "--format", "json", "--model", "m"]) == 0
    data = json.loads(capsys.readouterr().out)
    statements = [*data["summary_sentences"], *data["key_points"], *data["contested_points"]]
    assert len(statements) == 6  # 2 summary sentences, 1 key point, 3 contested points
    for statement in statements:
        assert statement["evidence"]
        for ev in statement["evidence"]:
            assert NTV[ev["start"] : ev["end"]] == ev["quote"]
            assert ev["sentence"] in (11, 13, 14, 24, 28, 29, 43, 45)
    assert [c["name"] for c in data["meta"]["checks"]] == [
        "quoted_terms", "loaded_words", "commentary", "disputes", "attribution"
    ]  # fmt: skip


def test_text_output_shows_summary_points_and_quotes(ntv_path, patch_build_client, capsys):
    patch_build_client(Recorder([ok(good_answer())]))
    assert main([str(ntv_path), "--base-url", "http://127.0.0.1:9/v1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("xi-putin-ntv\n\nSummary\n")  # the file's stem names it
    assert "[disputed]" in out
    assert "disputed by Russian Ministry of Defense" in out
    assert "S29 \u201cThe Russian Ministry of Defense denied these accusations\u201d" in out
    # every statement shows the sentences it cites; the footer the share cited
    assert 'harassment". [S14] Ukraine reported' in " ".join(out.split())
    assert "military parade in Moscow. [S11]" in out
    assert "100% of statements cited" in out


def test_stdin(patch_build_client, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(NTV.encode())))
    patch_build_client(Recorder([ok(good_answer())]))
    assert main(["-", "--base-url", "http://127.0.0.1:9/v1", "--format", "json"]) == 0


def test_no_endpoint_is_one_line_naming_the_options(ntv_path, capsys):
    assert main([str(ntv_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "OPENAI_API_KEY" in err
    assert "--base-url" in err
    assert "--local" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"\x00\x01binary", "NUL bytes"),
        ("caf\xe9".encode("latin-1"), "not UTF-8"),
        (b"  \n", "empty"),
    ],
)
def test_bad_input_exits_2_with_the_fix(tmp_path, capsys, content, message):
    path = tmp_path / "a.txt"
    if content is not None:
        path.write_bytes(content)
    assert main([str(path), "--base-url", "http://127.0.0.1:9/v1"]) == 2
    assert message in capsys.readouterr().err


def test_directory_without_articles_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "notes.bin").write_bytes(b"\x00")
    assert main([str(tmp_path)]) == 2  # a directory is a batch; this one has no articles
    assert "no articles found" in capsys.readouterr().err


def test_api_failure_exits_1(ntv_path, patch_build_client, capsys):
    patch_build_client(Recorder([error(401, "bad key")]))
    assert main([str(ntv_path), "--base-url", "http://127.0.0.1:9/v1"]) == 1
    assert "AuthenticationError" in capsys.readouterr().err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--format", "xml", "a.txt"])
    assert info.value.code == 2


def test_notes_show_a_count_and_the_first_three_unless_verbose():
    from testkit.replaying import cassette_named, replay

    from summarize.cli.brief import render

    brief, _ = replay(cassette_named("trade-war-in-parts"))
    assert not isinstance(brief, Exception)
    warnings = brief.meta.warnings
    assert len(warnings) > 3
    short = render(brief, "text")
    assert f"Notes ({len(warnings)})" in short
    assert f"... and {len(warnings) - 3} more (--verbose lists them)" in short
    assert warnings[2][:40] in " ".join(short.split())
    assert warnings[3][:40] not in " ".join(short.split())
    full = " ".join(render(brief, "text", verbose=True).split())
    assert all(" ".join(w.split())[:40] in full for w in warnings)
    assert "more (--verbose" not in full
    markdown = render(brief, "markdown", verbose=True)
    assert markdown.count("\n- ") >= len(warnings)
