"""Errors of the sandbox platform."""

from __future__ import annotations

from xingdong.core.errors import Conflict, Forbidden, NotFound
from xingdong.core.i18n import N_


class SandboxAccountNotFound(NotFound):
    code = "sandbox_account_not_found"
    title = N_("No such account on the sandbox platform")


class SandboxVideoNotFound(NotFound):
    code = "sandbox_video_not_found"
    title = N_("No such video on the sandbox platform")


class SandboxLiveRoomNotFound(NotFound):
    code = "sandbox_live_room_not_found"
    title = N_("No such live room on the sandbox platform")


class SandboxProductNotFound(NotFound):
    code = "sandbox_product_not_found"
    title = N_("No such product on the sandbox platform")


class SandboxOrderNotFound(NotFound):
    code = "sandbox_order_not_found"
    title = N_("No such order")


class OrderNotRefundable(Conflict):
    code = "order_not_refundable"
    title = N_("This order cannot be refunded")


class SandboxCommentNotFound(NotFound):
    code = "sandbox_comment_not_found"
    title = N_("No such comment")


class SandboxVisitNotFound(NotFound):
    code = "sandbox_visit_not_found"
    title = N_("You are not in this live room")


class SandboxAccountNotYours(Forbidden):
    code = "platform_account_not_yours"
    title = N_("This account is not yours")


class SandboxHandleTaken(Conflict):
    code = "sandbox_handle_taken"
    title = N_("This handle is already taken on the sandbox platform")


class LiveRoomClosed(Conflict):
    code = "live_room_closed"
    title = N_("This live room is not live now")


class SandboxAccountNotBound(Conflict):
    code = "sandbox_account_not_bound"
    title = N_("Bind a sandbox account first")


class SandboxAdNotFound(NotFound):
    code = "sandbox_ad_not_found"
    title = N_("No such ad on your profile")
