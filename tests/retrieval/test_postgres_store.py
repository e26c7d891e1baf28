"""The PostgreSQL BM25 store against a real PostgreSQL, ranked against bm25s on the same texts."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from retrieval.lexical.bm25_store import BM25Store
from retrieval.lexical.postgres_store import (
    MAX_LEXEME_BYTES,
    PostgresBM25Store,
    lexeme,
    plan_candidates,
)


@pytest.fixture(autouse=True)
def _postgres_only(request) -> None:
    if not {"db", "transactional_db"} & set(request.fixturenames):
        return
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL BM25 store runs in bin/test's PostgreSQL pass (DATABASE_URL)")


def new_store(**options) -> PostgresBM25Store:
    return PostgresBM25Store(namespace=f"test_{uuid.uuid4().hex[:10]}", **options)


@pytest.fixture
def store(db) -> PostgresBM25Store:
    return new_store()  # its tables go with the test's transaction


@pytest.fixture
def committed_store(transactional_db) -> Iterator[PostgresBM25Store]:
    """A store whose writes really commit (for other connections to see); dropped after."""
    created = new_store(write_shards=2)
    created.create()  # committed: concurrent first writers would wait for the one creating them
    yield created
    created.drop()


ENGLISH = [
    "The cafeteria opens at 7:45 on weekdays and at nine on weekends.",
    "Expense reports must be submitted within 30 days of the expense.",
    "Travel expenses above 500 euros need a manager's approval before booking.",
    "The annual leave policy grants 25 days of paid leave per calendar year.",
    "Unused annual leave may be carried over until the end of March.",
    "Parental leave: up to 16 weeks, paid at full salary for the first 8 weeks.",
    "Laptops are replaced every three years; report a broken laptop to IT.",
    "The VPN must be used on public networks. The VPN client updates itself.",
    "Security badges open the main entrance; lost badges are reported to security.",
    "Visitors sign in at reception and wear a visitor badge at all times.",
    "Overtime is paid at 150 percent, or taken as time off in lieu within a month.",
    "The cafeteria serves vegetarian and vegan dishes every day.",
]
CHINESE = [
    "员工食堂每天早上七点四十五分开门。",
    "报销单必须在费用发生后三十天内提交。",
    "差旅费用超过五百欧元需要经理事先批准。",
    "年假政策规定每个日历年有二十五天带薪年假。",
    "未使用的年假可以结转到次年三月底。",
    "笔记本电脑每三年更换一次，损坏请报告信息技术部。",
    "在公共网络上必须使用虚拟专用网络。",
    "访客在前台登记，并始终佩戴访客证。",
    "加班按百分之一百五十支付，或在一个月内调休。",
    "北京大学的访问学者可以使用图书馆。",
]
QUERIES = [
    "When does the cafeteria open?",
    "expense report deadline",
    "annual leave carried over",
    "leave leave leave paid",
    "VPN public networks",
    "badge",
    "食堂几点开门",
    "年假可以结转吗",
    "报销单提交期限",
    "访客证",
    "北京",
    "laptop 电脑 更换",
    "nothing matches zorblax",
]


def synthetic(count: int, seed: int = 7) -> list[str]:
    """Texts over a Zipf-like vocabulary: varied document frequencies, repeated terms, lengths."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    weights = [1 / (i + 1) for i in range(300)]
    return [" ".join(rng.choices(words, weights, k=rng.randint(3, 60))) for _ in range(count)]


def both(tmp_path: Path, store: PostgresBM25Store, texts: list[str]) -> BM25Store:
    reference = BM25Store(str(tmp_path / "bm25"))
    ids = list(range(1, len(texts) + 1))
    reference.update(add_ids=ids, texts=texts)
    store.update(add_ids=ids, texts=texts)
    return reference


def assert_same_ranking(ours, reference, k: int) -> None:
    """Our hits are bm25s's: same scores, in the same order; ids agree wherever scores differ
    (float32 in bm25s may order exact ties differently)."""
    theirs = {h.id: h.score for h in reference}
    assert len(ours.hits) == min(k, len(reference))
    for hit in ours.hits:
        assert hit.score == pytest.approx(theirs[hit.id], rel=1e-5)
    expected = [h.score for h in reference[:k]]
    assert [h.score for h in ours.hits] == pytest.approx(expected, rel=1e-5)
    for rank, hit in enumerate(ours.hits):
        neighbours = [h.score for h in reference[max(rank - 1, 0) : rank + 2] if h.id != hit.id]
        if all(abs(s - hit.score) > 1e-4 * hit.score for s in neighbours):
            assert hit.id == reference[rank].id


def ids(result) -> list[int]:
    return [hit.id for hit in result.hits]


def test_ranks_english_and_chinese_as_bm25s_does(store, tmp_path: Path):
    reference = both(tmp_path, store, ENGLISH + CHINESE)
    for query in QUERIES:
        full = reference.search(query=query, k=100)
        ours = store.search(query=query, k=5)
        assert_same_ranking(ours, full.hits, 5)
        assert ours.script_overlap == full.script_overlap
    assert ids(store.search(query="食堂几点开门", k=1)) == [len(ENGLISH) + 1]
    assert store.search(query="nothing matches zorblax", k=5).hits == []
    assert store.count() == len(ENGLISH + CHINESE)
    assert list(store.ids()) == list(range(1, len(ENGLISH + CHINESE) + 1))
    assert store.texts([2, 999]) == {2: ENGLISH[1]}


def test_ranks_a_larger_corpus_with_repeated_terms_as_bm25s_does(store, tmp_path: Path):
    reference = both(tmp_path, store, synthetic(400))
    rng = random.Random(3)
    for _ in range(25):
        query = " ".join(f"w{rng.randint(0, 299)}" for _ in range(rng.randint(1, 5)))
        assert_same_ranking(
            store.search(query=query, k=10), reference.search(query=query, k=400).hits, 10
        )


def test_script_overlap_follows_the_corpus_scripts(store):
    store.update(add_ids=[1, 2], texts=ENGLISH[:2])
    assert store.search(query="食堂几点开门", k=5).script_overlap == 0.0
    assert 0.0 < store.search(query="Zorblax 食堂几点开门", k=5).script_overlap < 0.5
    assert store.search(query="cafeteria", k=5).script_overlap == 1.0


def test_array_and_queryset_filters_apply_before_the_top_k(store):
    groups = [Group.objects.create(name=f"g{i}") for i in range(4)]
    chunk_ids = [g.pk for g in groups]
    store.update(
        add_ids=chunk_ids, texts=["alpha alpha alpha", "alpha alpha", "alpha", "beta alpha"]
    )
    assert ids(store.search(query="alpha", k=1)) == [chunk_ids[0]]
    assert ids(store.search(query="alpha", k=1, allowed_ids=np.array([chunk_ids[2]]))) == [
        chunk_ids[2]
    ]
    empty = np.array([], dtype=np.int64)
    assert ids(store.search(query="alpha", k=5, allowed_ids=empty)) == []
    readable = Group.objects.filter(name__in=["g1", "g3"]).values_list("pk", flat=True)
    assert ids(store.search(query="alpha", k=5, allowed_ids=readable)) == [
        chunk_ids[1],
        chunk_ids[3],
    ]
    assert ids(store.search(query="alpha", k=5, allowed_ids=Group.objects.none())) == []
    with CaptureQueriesContext(connection) as queries:  # the QuerySet is joined, never read
        store.search(query="alpha", k=5, allowed_ids=readable)
    assert not any(q["sql"].startswith('SELECT "auth_group"') for q in queries.captured_queries)
    assert any(
        '"auth_group"' in q["sql"] and store._chunk in q["sql"] for q in queries.captured_queries
    )
    excluded = np.array(chunk_ids[:2])
    assert ids(store.search(query="alpha", k=5, excluded_ids=excluded)) == chunk_ids[2:]
    assert (
        ids(
            store.search(
                query="alpha",
                k=5,
                allowed_ids=Group.objects.values_list("pk", flat=True),
                excluded_ids=Group.objects.filter(name="g0").values_list("pk", flat=True),
            )
        )
        == chunk_ids[1:]
    )
    assert ids(store.search(query="alpha", k=5, excluded_ids=empty)) == chunk_ids


def test_updates_are_idempotent_and_removal_updates_the_statistics(store, tmp_path: Path):
    texts = ENGLISH + CHINESE
    reference = both(tmp_path, store, texts)
    # Added again (a retried task), replaced, removed: the statistics must end as bm25s's.
    store.update(add_ids=[1, 2, 3], texts=texts[:3])
    store.update(add_ids=[4, 4], texts=["replaced twice", "The cafeteria is closed on Sunday."])
    reference.update(add_ids=[4], texts=["The cafeteria is closed on Sunday."])
    store.update(remove_ids=[5, 6, 999], add_ids=[], texts=[])
    reference.update(remove_ids=[5, 6])
    store.update(remove_ids=[7], add_ids=[7], texts=["Unused leave is lost in April."])
    reference.update(remove_ids=[7], add_ids=[7], texts=["Unused leave is lost in April."])
    assert store.count() == reference.count() == len(texts) - 2
    assert list(store.ids()) == list(reference.ids())
    for query in [*QUERIES, "cafeteria Sunday", "leave lost"]:
        assert_same_ranking(
            store.search(query=query, k=5), reference.search(query=query, k=100).hits, 5
        )
    assert store.texts([4]) == {4: "The cafeteria is closed on Sunday."}
    store.update(remove_ids=list(store.ids()))
    assert store.count() == 0
    assert store.search(query="cafeteria", k=3).hits == []


def test_clear_empties_the_store(store):
    store.update(add_ids=[1, 2], texts=ENGLISH[:2])
    store.clear()
    assert store.count() == 0
    assert store.search(query="cafeteria", k=3).hits == []
    store.update(add_ids=[3], texts=[ENGLISH[0]])
    assert ids(store.search(query="cafeteria", k=3)) == [3]


def test_drop_removes_the_namespace(store):
    store.update(add_ids=[1], texts=[ENGLISH[0]])
    other = new_store()
    other.update(add_ids=[1], texts=[ENGLISH[1]])
    store.drop()
    assert store.count() == 0 and store.search(query="cafeteria", k=3).hits == []
    assert ids(other.search(query="expense", k=3)) == [1]  # another namespace is untouched
    store.update(add_ids=[2], texts=[ENGLISH[0]])  # and a later write creates it again
    assert ids(store.search(query="cafeteria", k=3)) == [2]


def test_a_transaction_keeps_one_statistics_shard(store):
    store.update(add_ids=[1], texts=[ENGLISH[0]])
    store.update(add_ids=[2], texts=[ENGLISH[1]])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
            " AND pid = pg_backend_pid() AND classid::bigint = %s",
            [store._lock_key],
        )
        assert cursor.fetchone()[0] == 1


def test_odd_terms_are_stored_and_found(store):
    long_word = "x" * (MAX_LEXEME_BYTES + 50)
    assert lexeme(long_word) != long_word
    store.update(
        add_ids=[1, 2, 3],
        texts=[f"a {long_word} token", "it's O'Brien's \\ backslash", "word " * 400],
    )
    assert ids(store.search(query=long_word, k=3)) == [1]
    assert ids(store.search(query="O'Brien", k=3)) == [2]
    assert ids(store.search(query="backslash", k=3)) == [2]
    assert ids(store.search(query="word", k=3)) == [3]  # tf above PostgreSQL's 256 positions


def test_candidates_are_capped_for_common_terms(tmp_path: Path, db):
    store = new_store(max_candidates=10)
    texts = [f"common filler {i} common" for i in range(40)] + [
        "rare common",
        "rare rare and more words here",
    ]
    reference = both(tmp_path, store, texts)
    # The rare term's chunks are all scored, common terms adding to them: still bm25s's top.
    full = reference.search(query="rare common", k=100).hits
    assert_same_ranking(store.search(query="rare common", k=2), full, 2)
    # Fewer rare chunks than k: common-only chunks fill in, each with its true score.
    more = store.search(query="rare common", k=5).hits
    assert [h.id for h in more[:2]] == [h.id for h in full[:2]] and len(more) == 5
    theirs = {h.id: h.score for h in full}
    for hit in more:
        assert hit.score == pytest.approx(theirs[hit.id], rel=1e-5)
    # Common terms only: at most the cap is scored, each with its true BM25 score.
    result = store.search(query="common filler", k=50)
    assert 0 < len(result.hits) <= 10
    theirs = {h.id: h.score for h in reference.search(query="common filler", k=100).hits}
    for hit in result.hits:
        assert hit.score == pytest.approx(theirs[hit.id], rel=1e-5)


def test_plan_candidates_takes_rare_terms_first():
    assert plan_candidates({"a": 5, "b": 1, "c": 100}, cap=10) == (["b", "a"], ["c"])
    assert plan_candidates({"a": 5, "b": 1}, cap=10) == (["b", "a"], [])
    assert plan_candidates({"a": 50}, cap=10) == ([], ["a"])


def test_a_rolled_back_write_leaves_nothing(committed_store):
    committed_store.update(add_ids=[1], texts=[ENGLISH[0]])
    with pytest.raises(RuntimeError), transaction.atomic():
        committed_store.update(add_ids=[2], texts=[ENGLISH[11]])
        committed_store.update(remove_ids=[1])
        assert ids(committed_store.search(query="cafeteria", k=3)) == [2]  # its own writes
        raise RuntimeError("the ingestion failed")
    assert committed_store.count() == 1
    assert ids(committed_store.search(query="cafeteria", k=3)) == [1]
    assert ids(committed_store.search(query="vegetarian", k=3)) == []


def in_thread(work) -> threading.Thread:
    """Run `work` in a thread on its own database connection; exceptions are re-raised by
    `join_all`."""

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # re-raised by join_all
            thread.error = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.error = None
    thread.start()
    return thread


def join_all(*threads: threading.Thread) -> None:
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a writer is stuck"
    for thread in threads:
        if thread.error:
            raise thread.error


def test_searchable_exactly_when_the_writing_transaction_commits(committed_store):
    written, checked = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            committed_store.update(add_ids=[1], texts=[ENGLISH[0]])
            written.set()
            assert checked.wait(60)

    thread = in_thread(writer)
    assert written.wait(60)
    assert committed_store.search(query="cafeteria", k=3).hits == []  # not committed yet
    checked.set()
    join_all(thread)
    assert ids(committed_store.search(query="cafeteria", k=3)) == [1]


def statistics_disagreements(store: PostgresBM25Store) -> list:
    """Differences between the incremental statistics and those recounted from the chunks."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH recount AS (
                SELECT term, count(*) AS df FROM {store._chunk},
                    unnest(tsvector_to_array(terms)) AS term GROUP BY term),
            kept AS (SELECT term, sum(df) AS df FROM {store._df} GROUP BY term
                     HAVING sum(df) <> 0)
            SELECT coalesce(r.term, k.term), r.df, k.df FROM recount r
                FULL JOIN kept k ON k.term = r.term
                WHERE r.df IS DISTINCT FROM k.df
            UNION ALL
            SELECT 'stats', (SELECT count(*) FROM {store._chunk}), sum(chunks) FROM {store._stats}
                HAVING sum(chunks) <> (SELECT count(*) FROM {store._chunk})
            UNION ALL
            SELECT 'length', (SELECT sum(length) FROM {store._chunk}), sum(length)
                FROM {store._stats} HAVING sum(length) <> (SELECT sum(length) FROM {store._chunk})
            """
        )
        return cursor.fetchall()


def test_concurrent_writers_neither_wait_nor_lose_counts(committed_store):
    texts = synthetic(60, seed=11)
    inside = threading.Barrier(2, timeout=60)

    def writer(first: int) -> None:
        with transaction.atomic():  # both hold an open write transaction at once
            committed_store.update(add_ids=range(first, first + 30), texts=texts[first - 1 :][:30])
            inside.wait()

    join_all(in_thread(lambda: writer(1)), in_thread(lambda: writer(31)))
    assert committed_store.count() == 60
    assert statistics_disagreements(committed_store) == []


def test_concurrent_rewrites_of_the_same_chunks_do_not_deadlock(committed_store, tmp_path: Path):
    texts = synthetic(40, seed=5)
    store = PostgresBM25Store(namespace=committed_store.namespace, write_shards=1)

    def rewrite(order: list[int], shift: int) -> None:
        for round_ in range(8):
            batch = order[round_ % 3 :]
            with transaction.atomic():
                store.update(
                    remove_ids=batch[:5],
                    add_ids=batch,
                    texts=[texts[(i + shift + round_) % 40] for i in batch],
                )

    forward = list(range(1, 41))
    join_all(
        in_thread(lambda: rewrite(forward, 0)),
        in_thread(lambda: rewrite(forward[::-1], 7)),
        in_thread(lambda: committed_store.update(add_ids=forward, texts=texts)),
    )
    assert committed_store.count() == 40
    assert statistics_disagreements(committed_store) == []
    # And the stored rows rank as bm25s ranks the same texts.
    stored = committed_store.texts(forward)
    reference = BM25Store(str(tmp_path / "bm25"))
    reference.update(add_ids=forward, texts=[stored[i] for i in forward])
    for query in ["w0 w1", "w7", "w3 w20 w41"]:
        assert_same_ranking(
            committed_store.search(query=query, k=5), reference.search(query=query, k=40).hits, 5
        )
