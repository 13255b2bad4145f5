"""A Streamlit session without a browser: Streamlit's own protobuf messages over its WebSocket (no tests here).

The browser and the server speak protobuf over ``/_stcore/stream``: the browser sends ``BackMsg``s (a rerun request
carries the client state: query string, page, widget values), the server answers with ``ForwardMsg``s (the new
session, the page's elements as deltas, ``script_finished``). ``AppSession`` sends the rerun requests a browser
would and reads the answers without drawing anything, so that a load test measures the server alone.

- ``AppSession.open(query)`` opens the app from a permalink (its query string), as a browser tab does.
- ``AppSession.set_widget(key, value)`` changes a widget found by its key, as typing into it and committing does.
- ``AppSession.switch_page(url_path)`` follows a navigation link.
Each returns a ``Run``: how long the server took to answer (the request sent → ``script_finished``), the bytes it
sent, the exceptions and error boxes it showed, and the text of the main area's elements (to check that the run
was about the input sent, not a dropped one).

Like the browser, a session sends every widget value it has set with each rerun, and the hashes of the cacheable
messages it already holds (the server then sends a reference instead of the message again).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

# A run has finished: the page's script (or, for a widget inside a fragment, that fragment alone); a run cut short
# by a rerun (FINISHED_EARLY_FOR_RERUN) is followed by the run that answers.
FINISHED = (
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
)
MAIN, SIDEBAR = 0, 1  # a delta's first path index: the root container it is drawn into
ERROR_ALERT = 1  # Alert.Format.ERROR: an st.error box


class SessionClosedError(RuntimeError):
    """The server closed the WebSocket (a disconnect)."""


@dataclass
class Run:
    """What the server sent for one rerun request."""

    seconds: float  # request sent → script_finished received
    received_bytes: int
    exceptions: list[str] = field(default_factory=list)  # st.exception elements (a traceback shown to the user)
    error_boxes: list[str] = field(default_factory=list)  # st.error boxes
    main_text: str = ""  # the main area's elements, serialised: a run about a sentence holds its words

    @property
    def failed(self) -> bool:
        return bool(self.exceptions or self.error_boxes)

    def shows(self, word: str) -> bool:
        """Whether the main area's elements carry ``word`` (the graph's HTML, the figures' labels, the text)."""
        return word in self.main_text


class AppSession:
    """One Streamlit session over one WebSocket, as one browser tab; use ``async with AppSession(url) as s``."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 90.0,
        headers: dict[str, str] | None = None,
        source_address: str | None = None,
    ) -> None:
        """``headers``: sent with the WebSocket's opening request (a proxy's sticky-session cookie, say);
        ``source_address``: the local address to connect from (127.0.0.2, … are all this machine)."""
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.headers = headers or {}
        self.source_address = source_address
        self.query_string = ""
        self.page_script_hash = ""
        self.pages: dict[str, str] = {}  # url path ("" for the default page) → page script hash
        self.widget_ids: dict[str, str] = {}  # user key → widget id, from the elements drawn
        self.widget_states: dict[str, WidgetState] = {}  # widget id → the value this session set
        self.cached_hashes: set[str] = set()
        self._socket: websockets.ClientConnection | None = None

    async def __aenter__(self) -> AppSession:
        stream = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        self._socket = await websockets.connect(
            stream,
            subprotocols=[websockets.Subprotocol("streamlit")],
            origin=websockets.Origin(self.base_url),
            additional_headers=self.headers,
            max_size=None,
            open_timeout=self.timeout_s,
            ping_interval=None,  # the server sends no pings to answer; a long run must not count as a dead peer
            local_addr=(self.source_address, 0) if self.source_address else None,
        )
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self._socket is not None:
            await self._socket.close()

    async def open(self, query: dict[str, str] | None = None) -> Run:
        """Open the app at ``?query`` (a permalink) on its default page."""
        self.query_string = urllib.parse.urlencode(query or {})
        return await self._rerun()

    async def set_widget(self, key: str, value: str | bool | int | float) -> Run:
        """Set the widget drawn with ``key`` to ``value`` and rerun, as the browser does when a user commits it."""
        state = WidgetState(id=self.widget_ids[key])
        if isinstance(value, bool):
            state.bool_value = value
        elif isinstance(value, int):
            state.int_value = value
        elif isinstance(value, float):
            state.double_value = value
        else:
            state.string_value = value
        self.widget_states[state.id] = state
        return await self._rerun()

    async def switch_page(self, url_path: str) -> Run:
        """Follow the navigation link to the page at ``url_path`` ("" for the default page)."""
        self.page_script_hash = self.pages[url_path]
        return await self._rerun()

    async def _rerun(self) -> Run:
        if self._socket is None:
            raise RuntimeError("use the session in an `async with` block")
        request = BackMsg()
        state = request.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.widget_states.widgets.extend(self.widget_states.values())
        state.cached_message_hashes.extend(sorted(self.cached_hashes))
        started = time.perf_counter()
        await self._socket.send(request.SerializeToString())
        run = Run(seconds=0.0, received_bytes=0)
        main_parts: list[bytes] = []
        try:
            async with asyncio.timeout(self.timeout_s):
                while True:
                    data = await self._socket.recv()
                    assert isinstance(data, bytes)
                    run.received_bytes += len(data)
                    message = ForwardMsg.FromString(data)
                    if message.metadata.cacheable and message.hash:
                        self.cached_hashes.add(message.hash)
                    if self._read(message, run, main_parts):
                        break
        except websockets.ConnectionClosed as closed:
            raise SessionClosedError(str(closed)) from closed
        run.seconds = time.perf_counter() - started
        run.main_text = b"".join(main_parts).decode("utf-8", errors="replace")
        return run

    def _read(self, message: ForwardMsg, run: Run, main_parts: list[bytes]) -> bool:
        """Take in one ForwardMsg; True once the script run has finished."""
        kind = message.WhichOneof("type")
        if kind == "navigation":
            self.pages = {page.url_pathname: page.page_script_hash for page in message.navigation.app_pages}
            self.page_script_hash = self.page_script_hash or message.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            self._read_element(element, run)
            if message.metadata.delta_path and message.metadata.delta_path[0] == MAIN:
                main_parts.append(element.SerializeToString())
        elif kind == "script_finished":
            return message.script_finished in FINISHED
        return False

    def _read_element(self, element: Element, run: Run) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "alert" and element.alert.format == ERROR_ALERT:
            run.error_boxes.append(element.alert.body)
        elif kind is not None:
            widget_id = getattr(getattr(element, kind), "id", "")
            if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
                key = widget_id.split("-", 2)[2]  # "$$ID-<hash>-<user key>"
                if key != "None":
                    self.widget_ids[key] = widget_id
