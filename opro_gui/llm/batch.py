"""Scorer requests through the OpenAI Batch API: upload, create, poll, download, map back by
custom_id. Every state change is saved in a ledger (the project) before the next network step,
so a process killed while a batch runs picks the same batch up again and sends nothing twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from opro_gui.core.cancel import Cancelled, CancelToken
from opro_gui.core.models import CallRecord
from opro_gui.core.ports import LLMRequest, LLMResult

from .config import EndpointConfig
from .pricing import config_cost
from .secrets import NO_KEY, resolve_key, scrub
from .wire import max_tokens_param, messages_of, plain_prompt_of

#: Batch requests cost half the list price (OpenAI's published Batch API discount).
BATCH_DISCOUNT = 0.5
FINISHED = ("completed", "failed", "expired", "cancelled")
_META = "opro_fingerprint"


class BatchLedger(Protocol):
    """Where batch states live between processes (a table of the project file)."""

    def batch_row(self, fingerprint: str) -> dict[str, Any] | None: ...

    def save_batch(self, fingerprint: str, **fields: Any) -> None: ...


class BatchClient:
    """An LLMClient whose ``complete`` is one batch job (every request, n=1 each)."""

    def __init__(
        self,
        config: EndpointConfig,
        ledger: BatchLedger,
        *,
        api_key: str | None = None,
        role: str = "scorer",
        poll_interval: float = 30.0,
        on_status: Callable[[str], None] | None = None,
        sdk: Any = None,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.role = role
        self.poll_interval = poll_interval
        self.on_status = on_status or (lambda _s: None)
        self._key = resolve_key(config.api_key_env, config.keyring_profile, api_key)
        self._sdk = sdk
        self.fingerprints: list[str] = []  # batches this client used (marked consumed later)

    @property
    def model(self) -> str:
        return self.config.model

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()
            self._sdk = None

    def _client(self) -> Any:
        if self._sdk is None:
            from .wire import make_sdk

            self._sdk = make_sdk(self.config, self._key or NO_KEY)
        return self._sdk

    # -- the request file ------------------------------------------------------------------
    def _line(self, i: int, req: LLMRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.config.model, "temperature": req.temperature}
        max_tokens = req.max_tokens or self.config.max_tokens or 1024
        if req.stop:
            body["stop"] = list(req.stop)
        if self.config.mode == "chat":
            body[max_tokens_param(self.config.model)] = max_tokens
            body["messages"] = messages_of(req)
            url = "/v1/chat/completions"
        else:
            body["max_tokens"] = max_tokens
            body["prompt"] = plain_prompt_of(req)
            url = "/v1/completions"
        return {"custom_id": f"req-{i}", "method": "POST", "url": url, "body": body}

    def complete(
        self, requests: Sequence[LLMRequest], cancel: CancelToken | None = None
    ) -> list[LLMResult]:
        cancel = cancel or CancelToken()
        if not requests:
            return []
        if any(r.n != 1 for r in requests):
            raise ValueError("batch requests are sent with n=1 each")
        lines = [self._line(i, r) for i, r in enumerate(requests)]
        data = "".join(json.dumps(x, ensure_ascii=False, sort_keys=True) + "\n" for x in lines)
        fp = hashlib.sha256(f"{self.config.base_url}\n{data}".encode()).hexdigest()
        self.fingerprints.append(fp)
        try:
            output = self._drive(fp, data, len(requests), cancel)
        except Cancelled:
            raise
        except Exception as exc:  # the API refused or the server is gone: every result fails
            return [self._result(r, None, f"batch: {scrub(str(exc))[:200]}") for r in requests]
        return self._map(requests, output)

    def _drive(self, fp: str, data: str, n: int, cancel: CancelToken) -> str | None:
        """The batch's output file content; each step saved before the next one starts."""
        row = self.ledger.batch_row(fp)
        if row is None:
            self.ledger.save_batch(
                fp, status="uploading", base_url=self.config.base_url, model=self.config.model,
                requests=n,
            )  # fmt: skip
            row = {"status": "uploading", "input_file_id": "", "batch_id": ""}
        sdk = self._client()
        status = str(row["status"])
        if status == "uploading":
            up = sdk.files.create(
                file=("opro-batch.jsonl", data.encode("utf-8"), "application/jsonl"),
                purpose="batch",
            )
            row["input_file_id"] = up.id
            status = "creating"
            self.ledger.save_batch(fp, status=status, input_file_id=up.id)
        if status == "creating":
            # Killed between create and saving its id? The batch carries our fingerprint.
            batch_id = self._find_batch(sdk, fp)
            if batch_id is None:
                endpoint = (
                    "/v1/chat/completions" if self.config.mode == "chat" else "/v1/completions"
                )
                batch_id = sdk.batches.create(
                    input_file_id=row["input_file_id"], endpoint=endpoint,
                    completion_window="24h", metadata={_META: fp},
                ).id  # fmt: skip
            row["batch_id"] = batch_id
            status = "submitted"
            self.ledger.save_batch(fp, status=status, batch_id=batch_id)
        if status == "submitted":
            while True:
                batch = sdk.batches.retrieve(row["batch_id"])
                self.on_status(str(batch.status))
                if batch.status in FINISHED:
                    break
                cancel.raise_if_cancelled()
                cancel.wait(self.poll_interval)
                cancel.raise_if_cancelled()
            if batch.status != "completed" or not batch.output_file_id:
                self.ledger.save_batch(fp, status=f"batch {batch.status}")
                raise RuntimeError(f"the batch ended {batch.status}")
            output = sdk.files.content(batch.output_file_id).text
            self.ledger.save_batch(fp, status="done", output=output)
            return str(output)
        if status == "done":
            return str(row.get("output") or "")
        raise RuntimeError(f"an earlier batch for these requests ended: {status}")

    @staticmethod
    def _find_batch(sdk: Any, fp: str) -> str | None:
        for b in sdk.batches.list(limit=100):
            if (getattr(b, "metadata", None) or {}).get(_META) == fp:
                return str(b.id)
        return None

    # -- answers ------------------------------------------------------------------------------
    def _map(self, requests: Sequence[LLMRequest], output: str | None) -> list[LLMResult]:
        by_id: dict[str, dict[str, Any]] = {}
        for line in (output or "").splitlines():
            try:
                item = json.loads(line)
                by_id[str(item["custom_id"])] = item
            except (ValueError, KeyError, TypeError):
                continue
        out = []
        for i, req in enumerate(requests):
            item = by_id.get(f"req-{i}")
            if item is None:
                out.append(self._result(req, None, "no answer in the batch output"))
                continue
            resp = item.get("response") or {}
            if item.get("error") or resp.get("status_code") != 200:
                why = item.get("error") or resp.get("body") or "failed"
                out.append(self._result(req, None, f"batch request failed: {str(why)[:200]}"))
                continue
            out.append(self._result(req, resp.get("body") or {}, ""))
        return out

    def _result(self, req: LLMRequest, body: dict[str, Any] | None, error: str) -> LLMResult:
        texts: tuple[str, ...] = ()
        reported, p_tok, c_tok = "", 0, 0
        if body is not None:
            try:
                choice = sorted(body["choices"], key=lambda c: c.get("index") or 0)[0]
                text = choice["message"]["content"] if "message" in choice else choice["text"]
                texts = (str(text or ""),)
                reported = str(body.get("model", ""))
                usage = body.get("usage") or {}
                p_tok = int(usage.get("prompt_tokens") or 0)
                c_tok = int(usage.get("completion_tokens") or 0)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                error = "unreadable answer in the batch output"
        cost = BATCH_DISCOUNT * config_cost(self.config, reported, p_tok, c_tok) if texts else 0.0
        call = CallRecord(
            role=req.role or self.role, model_requested=self.config.model, model_reported=reported,
            prompt_tokens=p_tok, completion_tokens=c_tok, error=error, cost_usd=cost,
            base_url=self.config.base_url,
        )  # fmt: skip
        return LLMResult(texts=texts, call=call, error=error, calls=(call,))
