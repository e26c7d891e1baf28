from retrieval.spread import spread_over_pages


def spread(ids: list[int], pages: dict[int, str], per_page: int = 1) -> list[int]:
    return spread_over_pages(ids, pages, per_page=per_page, key=lambda i: i)


def test_a_pages_later_hits_move_behind_the_other_pages():
    pages = {1: "a", 2: "a", 3: "b", 4: "a", 5: "c"}
    assert spread([1, 2, 3, 4, 5], pages) == [1, 3, 5, 2, 4]
    assert spread([1, 2, 3, 4, 5], pages, per_page=2) == [1, 2, 3, 5, 4]


def test_hits_without_a_page_stand_alone():
    assert spread([1, 2, 3], {}) == [1, 2, 3]
    assert spread([1, 2, 3], {1: "a", 3: "a"}) == [1, 2, 3]
