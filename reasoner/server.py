"""The ReasonerService servicer: converts, calls `Reasoner`, converts back.

Errors map to statuses in the interceptor (longwatch.grpc_server)."""

from __future__ import annotations

import logging

import grpc

from longwatch.reasoner.v1 import reasoner_pb2, reasoner_pb2_grpc
from reasoner import convert
from reasoner.core.reasoner import Reasoner

logger = logging.getLogger(__name__)

SERVICE_NAME = reasoner_pb2.DESCRIPTOR.services_by_name["ReasonerService"].full_name


class ReasonerServicer(reasoner_pb2_grpc.ReasonerServiceServicer):
    def __init__(self, reasoner: Reasoner) -> None:
        self._reasoner = reasoner

    async def Ask(
        self, request: reasoner_pb2.AskRequest, context: grpc.aio.ServicerContext
    ) -> reasoner_pb2.AskResponse:
        query = convert.query_from_pb(request)
        answer = await self._reasoner.ask(query.question, query.stream_ids, query.deadline_ms)
        return convert.answer_to_pb(answer)
