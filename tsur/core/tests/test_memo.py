from tsur.core import memo


def test_a_keyed_value_is_read_once_per_key_until_something_changes():
    reads = []
    remembered = memo.RememberedByKey(lambda key: reads.append(key) or f"v{len(reads)}", ttl=60)

    assert (remembered.get("a"), remembered.get("a"), remembered.get("b")) == ("v1", "v1", "v2")
    remembered.forget()

    assert remembered.get("a") == "v3"
    assert reads == ["a", "b", "a"]


def test_a_value_read_while_a_change_happened_is_read_again_next_time():
    remembered = None
    reads = []

    def load(key):
        reads.append(key)
        if len(reads) == 1:
            remembered.forget()  # a change saved by another thread while this one was reading
        return len(reads)

    remembered = memo.RememberedByKey(load, ttl=60)

    assert remembered.get("a") == 1
    assert remembered.get("a") == 2
    assert remembered.get("a") == 2


def test_an_old_value_is_read_again_and_the_number_kept_is_bounded(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: clock[0])
    remembered = memo.RememberedByKey(lambda key: (key, clock[0]), ttl=5, max_items=2)

    assert remembered.get(1) == (1, 100.0)
    clock[0] = 104.0
    assert remembered.get(1) == (1, 100.0)
    clock[0] = 105.0
    assert remembered.get(1) == (1, 105.0)
    remembered.get(2)
    remembered.get(3)

    assert len(remembered._kept) <= 2
