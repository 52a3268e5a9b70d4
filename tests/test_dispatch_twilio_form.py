"""The Twilio adapter's own form encoding and Authorization header are byte for byte what
the twilio library's client (through aiohttp) would have sent."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import BasicAuth, ClientSession
from hypothesis import given
from hypothesis import strategies as st

from messaging.channels.twilio import LeanHttpClient, form_encoded

texts = st.text(st.characters(codec="utf-8"), max_size=60)


@given(st.dictionaries(texts, texts, max_size=6))
def test_form_is_what_urlencode_makes(data: dict[str, str]) -> None:
    assert form_encoded(data) == urlencode(data, doseq=True).encode()


def test_lists_go_through_urlencode() -> None:
    data: dict[str, object] = {"To": "+31 6", "MediaUrl": ["https://a/1 2", "https://b"]}
    assert form_encoded(data) == urlencode(data, doseq=True).encode()


async def test_the_authorization_header_is_basic_auth() -> None:
    async with ClientSession() as session:
        client = LeanHttpClient(session, "AC" + "1" * 32, "tøken")
        # What AsyncTwilioHttpClient sends: BasicAuth(sid, token), latin-1.
        assert client._authorization == BasicAuth("AC" + "1" * 32, "tøken").encode()
