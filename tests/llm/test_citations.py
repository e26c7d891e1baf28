from llm.citations import cited_numbers, ground


def test_single_list_range_and_fullwidth_forms():
    text = "A [1]. B [2, 3]. C [4-5]. D 【6】. E [1]."
    assert cited_numbers(text, max_n=6) == [1, 2, 3, 4, 5, 6]


def test_numbers_pointing_at_no_source_are_dropped():
    assert cited_numbers("Claim [7]. Other [0]. Fine [2].", max_n=3) == [2]


def test_text_without_citations():
    assert cited_numbers("No sources here, see section 2.", max_n=3) == []


def test_chinese_separators():
    assert cited_numbers("答案【1，3】和[2、4]", max_n=4) == [1, 3, 2, 4]


PASSAGES = {
    1: "The gym is open from 6 am to 10 pm on weekdays.",
    2: "Books are lent for three weeks. Members may borrow ten books.",
    3: "员工出差可报销经济舱机票和二等座火车票。",
}


def test_uncited_supported_sentence_gets_its_source():
    result = ground("Books are lent for three weeks.", PASSAGES)
    assert result.text == "Books are lent for three weeks [2]."
    assert result.numbers == [2]


def test_wrong_citation_is_replaced_by_the_supporting_source():
    result = ground("The gym opens at 6 am on weekdays [2].", PASSAGES)
    assert result.text == "The gym opens at 6 am on weekdays [1]."
    assert result.numbers == [1]


def test_marker_after_the_full_stop_stays_with_its_sentence():
    result = ground(
        "The gym is open from 6 am to 10 pm. [1] Members may borrow ten books. [2]", PASSAGES
    )
    assert (
        result.text == "The gym is open from 6 am to 10 pm [1]. Members may borrow ten books [2]."
    )
    assert (result.supported_sentences, result.sentences) == (2, 2)


def test_unsupported_sentence_stays_uncited():
    result = ground("The CEO is called Steve Jobs [1].", PASSAGES)
    assert result.numbers == []
    assert result.supported_sentences == 0
    assert "[" not in result.text


def test_chinese_sentence_supported_by_character_bigrams():
    result = ground("员工出差可以报销二等座火车票。", PASSAGES)
    assert result.numbers == [3]
    assert result.text == "员工出差可以报销二等座火车票 [3]。"


def test_a_sentence_with_a_number_the_passage_lacks_is_unsupported():
    result = ground("The gym is open from 6 am to 11 pm on weekdays [1].", PASSAGES)
    assert result.numbers == []
    assert [(c.supported, c.citations) for c in result.checks] == [(False, [])]
    assert ground("The gym is open from 6 am to 10 pm [1].", PASSAGES).numbers == [1]


def test_each_sentence_gets_a_support_verdict():
    result = ground(
        "Books are lent for three weeks [2]. The library was founded by monks [2].", PASSAGES
    )
    assert [(c.text, c.supported, c.citations) for c in result.checks] == [
        ("Books are lent for three weeks.", True, [2]),
        ("The library was founded by monks.", False, []),
    ]
    assert result.text == "Books are lent for three weeks [2]. The library was founded by monks."
