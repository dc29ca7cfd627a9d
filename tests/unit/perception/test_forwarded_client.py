"""Behind a front (the Ray ingress), perception counts streams per client by the client it names."""

from perception.server import FORWARDED_CLIENT_KEY, PerceptionServicer


class _Context:
    def __init__(self, metadata):
        self._metadata = metadata

    def invocation_metadata(self):
        return self._metadata

    def peer(self):
        return "ipv4:10.1.1.1:5000"  # the front's own address


def test_a_trusted_front_names_the_client():
    servicer = PerceptionServicer(streams=None, trust_forwarded_client=True)
    assert servicer._client(_Context(((FORWARDED_CLIENT_KEY, "ipv4:192.0.2.9:1"),))) == "ipv4:192.0.2.9:1"
    assert servicer._client(_Context(())) == "ipv4:10.1.1.1:5000"


def test_without_trust_a_callers_claim_is_ignored():
    servicer = PerceptionServicer(streams=None)
    assert servicer._client(_Context(((FORWARDED_CLIENT_KEY, "ipv4:192.0.2.9:1"),))) == "ipv4:10.1.1.1:5000"
