from feedsvc.refresh.politeness import HostGate


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_requests_to_one_host_are_spaced_by_the_gap_and_other_hosts_do_not_wait() -> None:
    time = FakeTime()
    gate = HostGate(2.0, clock=time.clock, sleep=time.sleep)
    assert gate.wait("http://a.example/x") == 0
    assert gate.wait("https://A.example:8443/y") == 2.0  # same host, any port or scheme
    assert gate.wait("http://b.example/") == 0
    time.now += 10
    assert gate.wait("http://a.example/z") == 0
    assert time.slept == [2.0]


def test_a_zero_gap_never_sleeps() -> None:
    time = FakeTime()
    gate = HostGate(0, clock=time.clock, sleep=time.sleep)
    assert [gate.wait("http://a.example/") for _ in range(3)] == [0, 0, 0]
    assert time.slept == []
