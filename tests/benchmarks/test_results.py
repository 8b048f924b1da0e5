"""The results page's writer (benchmarks/results.py): a benchmark rewrites its own section of
docs/results.md and nothing else."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.support import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import results

PAGE = """# Results

Intro text, kept as it is, trailing spaces too.
<!-- results:speed -->
## Speed

- date: 2026-12-01
- machine: old CPU, 2 cores, no GPU
- command: `python benchmarks/speed.py`

| way | s |
|---|---:|
| old | 9.9 |
<!-- /results:speed -->
Reading notes after the section.

<!-- results:speed-2048 -->
## Speed at 2048 px

- date: 2026-12-02
- machine: old CPU, 2 cores, no GPU
- command: `python benchmarks/speed.py --sizes 2048`

figures
<!-- /results:speed-2048 -->
tail without a final newline""".replace("too.", "too.  ")

STAMP = {"date": "2026-12-06", "machine": "a CPU, 2 cores, no GPU", "command": "python x.py"}


def test_a_run_replaces_only_its_own_section(tmp_path: Path):
    page = tmp_path / "results.md"
    page.write_bytes(PAGE.encode())
    results.write_section(
        "speed", "Speed", "| way | s |\n|---|---:|\n| new | 1.0 |", page=page, **STAMP
    )
    text = page.read_text()
    before, after = (
        PAGE.split("<!-- results:speed -->")[0],
        PAGE.split("<!-- /results:speed -->")[1],
    )
    assert text.startswith(before) and text.endswith(after)  # every other byte as it was
    assert "| new | 1.0 |" in text and "| old | 9.9 |" not in text
    assert text.count("<!-- results:speed -->") == 1
    assert "figures\n<!-- /results:speed-2048 -->" in text  # the similar name is untouched


def test_a_missing_section_is_added_at_the_end(tmp_path: Path):
    page = tmp_path / "results.md"
    page.write_bytes(PAGE.encode())
    results.write_section("memory", "Memory", "1.27 GB", page=page, **STAMP)
    text = page.read_text()
    assert text.startswith(PAGE)
    assert text.endswith(
        "<!-- results:memory -->\n## Memory\n\n- date: 2026-12-06\n"
        "- machine: a CPU, 2 cores, no GPU\n- command: `python x.py`\n\n1.27 GB\n"
        "<!-- /results:memory -->\n"
    )


def test_a_section_is_stamped_with_the_date_machine_and_command(tmp_path: Path, monkeypatch):
    page = tmp_path / "new" / "results.md"
    page.parent.mkdir()
    monkeypatch.setattr(sys, "argv", ["/somewhere/benchmarks/batch.py", "--count", "10"])
    results.write_section("batch", "Batches", "figures", page=page)
    text = page.read_text()
    assert re.search(r"^- date: \d{4}-\d\d-\d\d$", text, re.M)
    assert re.search(r"^- machine: .+, \d+ cores, (no GPU|\d+x .+)$", text, re.M)
    assert "- command: `python benchmarks/batch.py --count 10`" in text


def test_a_section_without_its_end_marker_is_refused(tmp_path: Path):
    page = tmp_path / "results.md"
    page.write_text("<!-- results:speed -->\n## Speed\n")
    with pytest.raises(ValueError, match="has no"):
        results.write_section("speed", "Speed", "figures", page=page, **STAMP)
    assert page.read_text() == "<!-- results:speed -->\n## Speed\n"


def test_publish_follows_the_results_and_section_options(tmp_path: Path):
    import argparse

    parser = argparse.ArgumentParser()
    results.add_arguments(parser, "batch", "Batches")
    report = results.Report()
    report.table(["way", "images/s"], [("local", "6.45")])
    page = tmp_path / "results.md"
    results.publish(parser.parse_args(["--results", "none"]), report, **STAMP)
    assert not page.exists()
    results.publish(parser.parse_args(["--results", str(page)]), report, **STAMP)
    assert "<!-- results:batch -->" in page.read_text()
    assert "| local | 6.45 |" in page.read_text()


def test_the_results_page_is_made_of_well_formed_sections():
    text = (REPO / "docs" / "results.md").read_text(encoding="utf-8")
    starts = re.findall(r"<!-- results:([^ ]+) -->", text)
    assert starts and len(starts) == len(set(starts))
    for name in starts:
        start = text.index(results.start_marker(name))
        end = text.index(results.end_marker(name), start)
        section = text[start:end]
        assert re.search(r"^## .+$", section, re.M), name
        for field in ("date", "machine", "command"):
            assert re.search(rf"^- {field}: .+$", section, re.M), (name, field)
    assert len(re.findall(r"<!-- /results:", text)) == len(starts)


def test_a_blind_tally_writes_its_section_with_the_judges_and_names(tmp_path: Path):
    import json

    import preference

    key = {
        f"sheet-{i}.png": {
            "style": "s",
            "photo": f"p{i}.jpg",
            "A": a,
            "B": b,
            "pair": ["ours", "rival"],
        }
        for i, (a, b) in enumerate([("ours", "rival"), ("rival", "ours"), ("ours", "rival")])
    }
    (tmp_path / "key.json").write_text(json.dumps(key))
    answers = ["sheet\tchoice\tstyle_A\tstyle_B\tcontent_A\tcontent_B"]
    answers += [
        "sheet-0.png\tA\t4\t2\t3\t5",
        "sheet-1.png\tA\t2\t4\t5\t3",
        "sheet-2.png\tB\t3\t3\t4\t4",
    ]
    (tmp_path / "answers.tsv").write_text("\n".join(answers) + "\n")
    page = tmp_path / "results.md"
    argv = ["tally", str(tmp_path / "key.json"), str(tmp_path / "answers.tsv")]
    argv += ["--results", str(page), "--section", "blind-test", "--judges", "1"]
    preference.main([*argv, "--judged", "2026-12-04", "--name", "rival=the rival", "--title", "T"])
    text = page.read_text()
    assert "- date: 2026-12-04" in text and "## T" in text
    assert "3 sheets" in text and "answered by 1 judge who saw only the sheets" in text
    assert "| ours vs the rival | all | ours 1/3 (33%) | 3.7 vs 2.3 | 3.3 vs 4.7 | 0 vs 0 |" in text
    with pytest.raises(SystemExit):  # how many judged must be said
        preference.main([*argv[:-2]])
