# Fault and latency injection: failed, dropped and slow Bot API calls on demand.
from __future__ import annotations

from collections import deque

from bot.emulators.telegram.records import _Fault
from bot.emulators.telegram.state import EmulatorState


class FaultsMixin(EmulatorState):
    """Control API: make calls fail, lose their answer or take time."""

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
        *,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` ("*" = any method) fail without effect.

        429 carries parameters.retry_after (PTB raises RetryAfter) unless retry_after is None.
        """
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                400: "Bad Request",
                403: "Forbidden",
                409: "Conflict",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, "Error")
        fault = _Fault(status, description, retry_after if status == 429 else None)
        self._add_fault(method, fault, times)

    def drop_next(self, method: str, *, times: int = 1, after_processing: bool = False) -> None:
        """The next `times` calls of `method` lose their connection (PTB: NetworkError).

        With `after_processing` the call takes effect first and only the answer is lost, which
        is how a client ends up retrying something that already happened.
        """
        fault = _Fault(0, "connection dropped", None, drop=True, after_processing=after_processing)
        self._add_fault(method, fault, times)

    def set_delay(self, seconds: float, method: str | None = None, *, serial: bool = False) -> None:
        """Artificial latency before every call (or only calls of `method`).

        Concurrent calls wait out their latency side by side, so ten parallel sends still
        finish together after one delay. With `serial` (needs `method`) calls of that method
        are served one at a time instead, each taking `seconds`: a slow single lane, which
        makes "kill the bot while its replies trickle out" reproducible. A call whose client
        disconnects while queued or delayed is cancelled and has no effect.
        """
        if serial and method is None:
            raise ValueError("serial latency needs a method")
        with self._lock:
            if method is None:
                self._delay = max(0.0, seconds)
                return
            name = self._canonical(method)
            if serial and name == "getUpdates":
                raise ValueError("getUpdates cannot be serial: a long poll would hold the lane")
            self._method_delays[name] = max(0.0, seconds)
            if serial:
                self._serial_methods.add(name)
            else:
                self._serial_methods.discard(name)

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
            self.call_log.clear()

    def _canonical(self, method: str) -> str:
        if method == "*":
            return method
        entry = self._handlers.get(method.lower())
        return entry[0] if entry else method

    def _add_fault(self, method: str, fault: _Fault, times: int) -> None:
        with self._lock:
            queue = self._faults.setdefault(self._canonical(method), deque())
            queue.extend([fault] * max(1, times))

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    return queue.popleft()
        return None
