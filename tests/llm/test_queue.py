"""Questions take turns at the model in the order they came, each knowing how many are ahead."""

from __future__ import annotations

import threading

from llm.queue import FairQueue


def test_turns_are_served_in_order_and_know_their_place():
    queue = FairQueue()
    first, second, third = queue.join(), queue.join(), queue.join()
    assert (first.ahead, second.ahead, third.ahead) == (0, 1, 2)
    assert first.wait(0) and not second.wait(0.01) and not third.wait(0)

    served: list[str] = []

    def wait(turn, name: str) -> None:
        assert turn.wait(10)
        served.append(name)
        turn.release()

    threads = [
        threading.Thread(target=wait, args=(third, "third")),
        threading.Thread(target=wait, args=(second, "second")),
    ]
    for thread in threads:
        thread.start()
    first.release()
    for thread in threads:
        thread.join(10)
    assert served == ["second", "third"]
    assert queue.waiting == 0


def test_a_caller_that_gives_up_leaves_the_line():
    queue = FairQueue()
    with queue.join() as holder:
        waiting, behind = queue.join(), queue.join()
        waiting.release()  # the client went away while waiting
        assert behind.ahead == 1
        assert holder.wait(0)
    assert behind.wait(0)
    behind.release()
    behind.release()  # harmless
    assert queue.waiting == 0
